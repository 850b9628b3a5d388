#include "server/args.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/engine_config.h"
#include "server/dist_node.h"

namespace sgl::server {
namespace {

ParsedArgs parse(std::vector<std::string> args) {
  args.insert(args.begin(), "sglcpp-server");
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  return parse_server_args(int(argv.size()), argv.data());
}

TEST(ServerArgs, DefaultsMatchSglangJax) {
  auto p = parse({"--model-path", "/m"});
  ASSERT_FALSE(p.exit_now) << p.output;
  const ServerArgs& a = p.args;
  EXPECT_EQ(a.port, 30000);
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.random_seed, 42);
  EXPECT_DOUBLE_EQ(a.mem_fraction_static, 0.88);
  EXPECT_EQ(a.chunked_prefill_size, 4096);
  EXPECT_EQ(a.max_prefill_tokens, 16384);
  EXPECT_EQ(a.page_size, 1);
  EXPECT_EQ(a.schedule_policy, "fcfs");
  EXPECT_EQ(a.attention_backend, "fa");
  EXPECT_EQ(a.stream_interval, 1);
  EXPECT_EQ(a.decode_log_interval, 40);
  EXPECT_EQ(a.tokenizer_path, "/m");
  EXPECT_EQ(a.served_model_name, "/m");
  EXPECT_FALSE(a.context_length.has_value());
  EXPECT_TRUE(validate_server_args(a).ok());
}

TEST(ServerArgs, SeedCommandLineIsAcceptedWithEqualsSyntax) {
  auto p = parse({"--model-path", "/m", "--trust-remote-code", "--dist-init-addr=127.0.0.1:5000",
                  "--nnodes=1", "--tp-size=1", "--device=cpu", "--random-seed=3", "--mem-fraction-static=0.8",
                  "--chunked-prefill-size=2048", "--download-dir=/tmp", "--dtype=bfloat16",
                  "--max-running-requests=128", "--skip-server-warmup", "--page-size=128",
                  "--tool-call-parser=qwen3_coder", "--node-rank=0"});
  ASSERT_FALSE(p.exit_now) << p.output;
  EXPECT_EQ(p.args.random_seed, 3);
  EXPECT_EQ(p.args.page_size, 128);
  EXPECT_EQ(p.args.max_running_requests.value_or(-1), 128);
  EXPECT_TRUE(p.args.skip_server_warmup);
  EXPECT_EQ(p.args.tool_call_parser, "qwen3_coder");
  auto st = validate_server_args(p.args);
  EXPECT_TRUE(st.ok()) << st.error().message;
  EXPECT_FALSE(p.notes.empty());  // trust-remote-code, download-dir, dist-init-addr
}

TEST(ServerArgs, JaxPrecompilePaddingsAreAcceptedAndLoggedAsIgnored) {
  auto p = parse({"--model-path", "/m", "--jax-precompile-prefill-token-paddings", "16384",
                  "--dtype=bfloat16", "--attention-backend=fa"});
  ASSERT_FALSE(p.exit_now) << p.output;
  ASSERT_EQ(p.args.jax_precompile_prefill_token_paddings.size(), 1u);
  bool noted = false;
  for (auto& n : p.notes) noted = noted || n.find("jax-precompile") != std::string::npos;
  EXPECT_TRUE(noted);
}

TEST(ServerArgs, TpuDeviceIsRefusedNamingTpu) {
  auto p = parse({"--model-path", "/m", "--device=tpu"});
  ASSERT_FALSE(p.exit_now);
  auto st = validate_server_args(p.args);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("tpu"), std::string::npos);
}

TEST(ServerArgs, UnbuiltFeaturesFailAtStartWithTheFlagName) {
  for (auto flags : std::vector<std::vector<std::string>>{
           {"--tp-size", "2"},
           {"--nnodes", "2"},
           {"--ep-size", "4"},
           {"--device", "cuda"},
           {"--speculative-algorithm", "EAGLE3", "--speculative-draft-model-path", "/d"}}) {
    flags.insert(flags.begin(), {"--model-path", "/m"});
    auto p = parse(flags);
    ASSERT_FALSE(p.exit_now) << p.output;
    auto st = validate_server_args(p.args);
    ASSERT_FALSE(st.ok()) << flags[2];
    EXPECT_NE(st.error().message.find(flags[2]), std::string::npos) << st.error().message;
  }
}

TEST(ServerArgs, SpeculativeIsAcceptedWhenBuilt) {
  auto p =
      parse({"--model-path", "/m", "--speculative-algorithm=EAGLE3", "--speculative-draft-model-path=/d",
             "--speculative-num-steps=3", "--speculative-eagle-topk=1", "--speculative-num-draft-tokens=4"});
  ASSERT_FALSE(p.exit_now) << p.output;
  BuiltFeatures built;
  built.speculative = true;
  EXPECT_TRUE(validate_server_args(p.args, built).ok());
  EXPECT_EQ(p.args.speculative_num_steps.value_or(0), 3);
}

TEST(ServerArgs, MaxPayloadSizeIsSglangsNameWithTheOldAlias) {
  EXPECT_EQ(parse({"--model-path", "/m"}).args.max_payload_size, 32 << 20);
  EXPECT_EQ(parse({"--model-path", "/m", "--max-payload-size", "1048576"}).args.max_payload_size, 1048576);
  EXPECT_EQ(parse({"--model-path", "/m", "--max-request-bytes=4096"}).args.max_payload_size, 4096);
  auto zero = parse({"--model-path", "/m", "--max-payload-size", "0"});
  ASSERT_FALSE(zero.exit_now);
  auto st = validate_server_args(zero.args);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("--max-payload-size"), std::string::npos);
  auto j = nlohmann::json::parse(server_args_to_json(parse({"--model-path", "/m"}).args));
  EXPECT_EQ(j["max_payload_size"], 32 << 20);
}

TEST(ServerArgs, ModelLayerNumsReachesTheEngine) {
  auto p = parse({"--model-path", "/m", "--model-layer-nums", "2"});
  ASSERT_FALSE(p.exit_now) << p.output;
  EXPECT_EQ(p.args.model_layer_nums, 2);
  EXPECT_EQ(nlohmann::json::parse(server_args_to_json(p.args))["model_layer_nums"], 2);
  EXPECT_FALSE(validate_server_args(parse({"--model-path", "/m", "--model-layer-nums", "0"}).args).ok());
}

TEST(ServerArgs, BadValuesAreRejected) {
  for (auto flags : std::vector<std::vector<std::string>>{{"--mem-fraction-static", "1.5"},
                                                          {"--page-size", "0"},
                                                          {"--port", "70000"},
                                                          {"--chunked-prefill-size", "0"},
                                                          {"--preferred-sampling-params", "[1]"}}) {
    flags.insert(flags.begin(), {"--model-path", "/m"});
    auto p = parse(flags);
    ASSERT_FALSE(p.exit_now) << p.output;
    EXPECT_FALSE(validate_server_args(p.args).ok()) << flags[2];
  }
}

TEST(ServerArgs, ParseErrorsExitNonZeroWithAMessage) {
  auto unknown = parse({"--model-path", "/m", "--no-such-flag"});
  EXPECT_TRUE(unknown.exit_now);
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.output.find("no-such-flag"), std::string::npos);
  auto bad_enum = parse({"--model-path", "/m", "--schedule-policy", "sjf"});
  EXPECT_TRUE(bad_enum.exit_now);
  EXPECT_NE(bad_enum.exit_code, 0);
  // Parser names are argparse choices, as in SGLang: an unknown one is a parse error.
  for (const char* flag : {"--tool-call-parser", "--reasoning-parser"}) {
    auto bad_parser = parse({"--model-path", "/m", flag, "nope"});
    EXPECT_TRUE(bad_parser.exit_now) << flag;
    EXPECT_NE(bad_parser.output.find(flag), std::string::npos) << flag;
  }
  auto missing = parse({});
  EXPECT_TRUE(missing.exit_now);
  EXPECT_NE(missing.output.find("model-path"), std::string::npos);
}

TEST(ServerArgs, HelpIsGroupedAndExitsZero) {
  auto p = parse({"--help"});
  EXPECT_TRUE(p.exit_now);
  EXPECT_EQ(p.exit_code, 0);
  for (const char* group :
       {"Model and tokenizer", "HTTP server", "Memory and scheduling", "Device and parallelism",
        "Speculative decoding", "OpenAI API", "Logging and metrics"})
    EXPECT_NE(p.output.find(group), std::string::npos) << group;
}

TEST(ServerArgs, ServerInfoJsonHasEveryLongNameAndHidesTheKey) {
  auto p = parse({"--model-path", "/m", "--api-key", "secret", "--context-length", "2048"});
  auto j = nlohmann::json::parse(server_args_to_json(p.args));
  EXPECT_EQ(j["model_path"], "/m");
  EXPECT_EQ(j["context_length"], 2048);
  EXPECT_EQ(j["port"], 30000);
  EXPECT_TRUE(j.contains("max_running_requests"));
  EXPECT_TRUE(j["max_running_requests"].is_null());
  EXPECT_EQ(j["api_key"], "<set>");
  EXPECT_EQ(server_args_to_json(p.args).find("\"secret\""), std::string::npos);
}

}  // namespace
}  // namespace sgl::server
