// --config FILE.yaml as SGLang's ConfigArgumentMerger reads it: flag names as keys, booleans
// switching store_true flags, lists and mappings, the command line winning, and clear errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "server/args.h"

namespace sgl::server {
namespace {

class ConfigFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sglcpp-config-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const auto p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  static ParsedArgs parse(std::vector<std::string> args) {
    args.insert(args.begin(), "sglcpp-server");
    std::vector<const char*> argv;
    for (auto& a : args) argv.push_back(a.c_str());
    return parse_server_args(int(argv.size()), argv.data());
  }
  std::filesystem::path dir_;
};

TEST_F(ConfigFile, FlagsComeFromTheFileAndTheCommandLineWins) {
  const std::string cfg = write("server.yaml", R"(# a launch as SGLang's docs write it
model-path: /models/qwen3
port: 31000
tp_size: 2                      # underscores as the field names
enable-metrics: true
disable-radix-cache: false      # store_true left off
served-model-name: "yes"        # quoted: a string, not a boolean
mem-fraction-static: 0.80
lora-paths: [a=/l/a, b=/l/b]
json-model-override-args:
  rope_scaling: {factor: 2.0, rope_type: linear}
  tie_word_embeddings: yes
max-running-req: 7              # a unique prefix, as argparse takes it
dcp-replicate-q-proj: false     # BooleanOptionalAction: --no-dcp-replicate-q-proj
)");
  auto p = parse({"--config", cfg, "--port", "32000", "--mem-frac", "0.5"});
  ASSERT_FALSE(p.exit_now) << p.output;
  const ServerArgs& a = p.args;
  EXPECT_EQ(a.config, cfg);
  EXPECT_EQ(a.model_path, "/models/qwen3");
  EXPECT_EQ(a.port, 32000);  // the command line wins, whatever spelling it used
  EXPECT_DOUBLE_EQ(a.mem_fraction_static, 0.5);
  EXPECT_EQ(a.tp_size, 2);
  EXPECT_TRUE(a.enable_metrics);
  EXPECT_FALSE(a.disable_radix_cache);
  EXPECT_EQ(a.served_model_name, "yes");
  EXPECT_EQ(a.lora_paths, (std::vector<std::string>{"a=/l/a", "b=/l/b"}));
  EXPECT_TRUE(a.enable_lora);
  EXPECT_EQ(a.max_running_requests.value_or(0), 7);
  EXPECT_EQ(nlohmann::json::parse(a.json_model_override_args),
            nlohmann::json::parse(
                R"({"rope_scaling":{"factor":2.0,"rope_type":"linear"},"tie_word_embeddings":true})"));
  ASSERT_TRUE(a.passthrough.contains("dcp_replicate_q_proj"));
  EXPECT_EQ(a.passthrough.at("dcp_replicate_q_proj"), std::vector<std::string>{"False"});

  // --config=PATH, and a command line store_true beating the file's false.
  auto q = parse({"--config=" + cfg, "--disable-radix-cache"});
  ASSERT_FALSE(q.exit_now) << q.output;
  EXPECT_TRUE(q.args.disable_radix_cache);
  EXPECT_EQ(q.args.port, 31000);
}

TEST_F(ConfigFile, AnEmptyFileChangesNothing) {
  auto p = parse({"--model-path", "/m", "--config", write("empty.yml", "# nothing\n")});
  ASSERT_FALSE(p.exit_now) << p.output;
  EXPECT_EQ(p.args.port, 30000);
}

TEST_F(ConfigFile, BadFilesAreRefusedNamingTheProblem) {
  auto error_of = [](const ParsedArgs& p) {
    EXPECT_TRUE(p.exit_now);
    EXPECT_NE(p.exit_code, 0);
    return p.output;
  };
  const std::string good = write("good.yaml", "model-path: /m\n");
  EXPECT_NE(error_of(parse({"--config", good, "--config", good})).find("Only one allowed"),
            std::string::npos);
  EXPECT_NE(error_of(parse({"--config"})).find("No config file specified"), std::string::npos);
  EXPECT_NE(error_of(parse({"--config", write("c.json", "{}")})).find("must be YAML"), std::string::npos);
  EXPECT_NE(error_of(parse({"--config", (dir_ / "absent.yaml").string()})).find("not found"),
            std::string::npos);
  EXPECT_NE(error_of(parse({"--config", write("list.yaml", "- a\n- b\n")})).find("mapping"),
            std::string::npos);
  const std::string unknown =
      error_of(parse({"--config", write("u.yaml", "model-path: /m\nno-such-flag: 1\n")}));
  EXPECT_NE(unknown.find("unknown option 'no-such-flag'"), std::string::npos) << unknown;
  const std::string syntax = error_of(parse({"--config", write("s.yaml", "model-path: [unclosed\n")}));
  EXPECT_NE(syntax.find("s.yaml"), std::string::npos) << syntax;
  const std::string flag =
      error_of(parse({"--config", write("f.yaml", "model-path: /m\nenable-metrics: maybe\n")}));
  EXPECT_NE(flag.find("--enable-metrics takes no value"), std::string::npos) << flag;
  // A value the flag itself refuses is reported as on the command line.
  EXPECT_TRUE(parse({"--config", write("v.yaml", "model-path: /m\nport: not-a-port\n")}).exit_now);
}

TEST(RepeatedFlags, TheLastOneWinsAsInArgparse) {
  std::vector<std::string> args = {
      "sglcpp-server", "--model-path", "/a", "--port", "1", "--port", "2", "--model", "/b"};
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  auto p = parse_server_args(int(argv.size()), argv.data());
  ASSERT_FALSE(p.exit_now) << p.output;
  EXPECT_EQ(p.args.port, 2);
  EXPECT_EQ(p.args.model_path, "/b");
}

}  // namespace
}  // namespace sgl::server
