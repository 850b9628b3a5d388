// SGLang's LoRA launch flags: spellings, defaults, the three --lora-paths forms, and the launch
// lines SGLang refuses (with its messages).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server/args.h"

namespace sgl::server {
namespace {

ParsedArgs parse(std::vector<std::string> args) {
  args.insert(args.begin(), {"sglcpp-server", "--model-path", "/m"});
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  return parse_server_args(int(argv.size()), argv.data());
}

std::string refusal(const std::vector<std::string>& flags) {
  auto p = parse(flags);
  EXPECT_FALSE(p.exit_now) << p.output;
  auto st = validate_server_args(p.args);
  return st.ok() ? std::string() : st.error().message;
}

TEST(LoraArgs, DefaultsMatchSglang) {
  auto p = parse({});
  ASSERT_FALSE(p.exit_now) << p.output;
  EXPECT_FALSE(p.args.enable_lora);
  EXPECT_EQ(p.args.max_loras_per_batch, 8);
  EXPECT_FALSE(p.args.max_lora_rank.has_value());
  EXPECT_FALSE(p.args.max_loaded_loras.has_value());
  EXPECT_EQ(p.args.lora_eviction_policy, "lru");
  EXPECT_EQ(p.args.lora_backend, "csgmv");
  EXPECT_EQ(p.args.max_lora_chunk_size, 16);
  EXPECT_TRUE(validate_server_args(p.args).ok());
}

TEST(LoraArgs, LoraPathsImplyEnableLoraAndTakeSeveralValues) {
  auto p =
      parse({"--lora-paths", "/ad/x", "y=/ad/y", R"({"lora_name":"z","lora_path":"/ad/z","pinned":true})",
             "--max-loras-per-batch", "4", "--lora-eviction-policy", "fifo", "--lora-backend", "triton",
             "--max-lora-chunk-size", "64"});
  ASSERT_FALSE(p.exit_now) << p.output;
  EXPECT_TRUE(p.args.enable_lora);
  EXPECT_EQ(p.args.lora_paths.size(), 3u);
  EXPECT_EQ(p.args.max_loras_per_batch, 4);
  EXPECT_EQ(p.args.lora_eviction_policy, "fifo");
  auto st = validate_server_args(p.args);
  EXPECT_TRUE(st.ok()) << st.error().message;
  // The backend is accepted and said to be ignored, once.
  bool noted = false;
  for (const auto& n : p.notes) noted = noted || n.find("--lora-backend has no effect") != std::string::npos;
  EXPECT_TRUE(noted);
}

TEST(LoraArgs, EnableLoraWithoutPathsNeedsRankAndTargetModules) {
  EXPECT_NE(refusal({"--enable-lora"}).find("--max-lora-rank and --lora-target-modules"), std::string::npos);
  EXPECT_FALSE(refusal({"--enable-lora", "--max-lora-rank", "16"}).empty());
  EXPECT_EQ(refusal({"--enable-lora", "--max-lora-rank", "16", "--lora-target-modules", "q_proj", "v_proj"}),
            "");
  EXPECT_EQ(refusal({"--enable-lora", "--max-lora-rank", "8", "--lora-target-modules", "all"}), "");
}

TEST(LoraArgs, MaxLoadedLorasBoundsAreSglangs) {
  EXPECT_NE(refusal({"--lora-paths", "a=/a", "--max-loaded-loras", "4"}).find("max_loaded_loras"),
            std::string::npos);  // below --max-loras-per-batch 8
  EXPECT_NE(refusal({"--lora-paths", "a=/a", "b=/b", "c=/c", "--max-loras-per-batch", "2",
                     "--max-loaded-loras", "2"})
                .find("should not exceed max_loaded_loras"),
            std::string::npos);
  EXPECT_EQ(refusal({"--lora-paths", "a=/a", "--max-loras-per-batch", "2", "--max-loaded-loras", "3"}), "");
}

TEST(LoraArgs, AtMostAllButOneSlotMayBePinned) {
  const std::string a = R"({"lora_name":"a","lora_path":"/a","pinned":true})";
  const std::string b = R"({"lora_name":"b","lora_path":"/b","pinned":true})";
  EXPECT_NE(refusal({"--lora-paths", a, b, "--max-loras-per-batch", "2"}).find("pinned"), std::string::npos);
  EXPECT_EQ(refusal({"--lora-paths", a, b, "--max-loras-per-batch", "3"}), "");
}

TEST(LoraArgs, BadValuesAreRefused) {
  EXPECT_FALSE(refusal({"--enable-lora", "--max-lora-rank", "8", "--lora-target-modules", "all",
                        "--max-loras-per-batch", "0"})
                   .empty());
  EXPECT_FALSE(refusal({"--lora-paths", "a=/a", "--max-lora-rank", "0"}).empty());
  EXPECT_NE(refusal({"--lora-paths", "a=/a", "a=/b"}).find("twice"), std::string::npos);
  EXPECT_FALSE(refusal({"--lora-paths", "{\"lora_name\":\"a\"}"}).empty());
  for (auto flags : std::vector<std::vector<std::string>>{{"--lora-eviction-policy", "random"},
                                                          {"--lora-backend", "cutlass"},
                                                          {"--max-lora-chunk-size", "20"},
                                                          {"--lora-target-modules", "lm_head"}}) {
    auto p = parse(flags);
    EXPECT_TRUE(p.exit_now) << flags[0];
    EXPECT_NE(p.exit_code, 0) << flags[0];
  }
}

TEST(LoraArgs, ServerInfoReportsTheLoraFlags) {
  auto p = parse({"--lora-paths", "x=/ad/x", "/ad/y", "--max-lora-rank", "16", "--lora-target-modules",
                  "q_proj", "gate_up_proj", "--max-loaded-loras", "9"});
  auto j = nlohmann::json::parse(server_args_to_json(p.args));
  EXPECT_EQ(j["enable_lora"], true);
  EXPECT_EQ(j["lora_paths"][0],
            (nlohmann::json{{"lora_name", "x"}, {"lora_path", "/ad/x"}, {"pinned", false}}));
  EXPECT_EQ(j["lora_paths"][1]["lora_name"], "/ad/y");
  EXPECT_EQ(j["max_loras_per_batch"], 8);
  EXPECT_EQ(j["max_lora_rank"], 16);
  EXPECT_EQ(j["lora_target_modules"], (nlohmann::json{"q_proj", "gate_up_proj"}));
  EXPECT_EQ(j["max_loaded_loras"], 9);
  EXPECT_EQ(j["lora_eviction_policy"], "lru");
  EXPECT_EQ(j["lora_backend"], "csgmv");
  auto off = nlohmann::json::parse(server_args_to_json(parse({}).args));
  EXPECT_EQ(off["enable_lora"], false);
  EXPECT_TRUE(off["lora_paths"].is_null());
  EXPECT_TRUE(off["max_lora_rank"].is_null());
}

}  // namespace
}  // namespace sgl::server
