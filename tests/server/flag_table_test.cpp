// The flag table against SGLang-JAX's and SGLang's own flag lists (tests/server/data/, extracted
// from their server_args.py at the commits named on each file's first line), and the generated
// docs/flags.md against the table.
#include "server/flags/flag_table.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "server/args.h"
#include "tests/flag_list.h"

namespace sgl::server::flags {
namespace {

ParsedArgs parse(std::vector<std::string> args) {
  args.insert(args.begin(), {"sglcpp-server", "--model-path", "/m"});
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  return parse_server_args(int(argv.size()), argv.data());
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::vector<std::string>> rows_of(const std::string& file) {
  return testing::read_flag_list(std::string(SGL_SOURCE_DIR) + "/tests/server/data/" + file);
}

using testing::unquote;

std::vector<std::string> names_in(const std::string& cell) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : cell + ",") {
    if (c == ',' || c == ' ' || c == '(' || c == ')' || c == '/') {
      if (cur.starts_with("--")) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  return out;
}

bool same_default(const std::string& ours, const std::string& theirs) {
  if (ours == theirs) return true;
  try {
    return std::stod(ours) == std::stod(theirs);
  } catch (...) {
    return false;
  }
}

struct Table {
  CLI::App app;
  ServerArgs args;
  FlagTable table{app, args};
};

TEST(FlagTable, EverySglangJaxFlagParsesWithItsTypeChoicesAndDefault) {
  Table t;
  const auto ref = rows_of("sglang-jax_server_args_flags.txt");
  ASSERT_EQ(ref.size(), 162u);
  for (const auto& r : ref) {
    const auto names = names_in(r[0]);
    const Flag* f = t.table.find(names.front());
    ASSERT_NE(f, nullptr) << names.front() << " is not in the flag table";
    for (const auto& n : names) EXPECT_EQ(t.table.find(n), f) << n << " is not an alias of " << names.front();
    const std::string def = unquote(r[1]), type = r[2], nargs = r[3];
    // The type: argparse's action and nargs, as the table's kind.
    const bool list = nargs == "+" || nargs == "*";
    if (type == "store_true") EXPECT_EQ(f->kind, Kind::kTrue) << names.front();
    if (type == "store_false") EXPECT_EQ(f->kind, Kind::kFalse) << names.front();
    if (type.find("BooleanOptional") != std::string::npos)
      EXPECT_EQ(f->kind, Kind::kBoolPair) << names.front();
    if (type == "int") EXPECT_EQ(f->kind, list ? Kind::kIntList : Kind::kInt) << names.front();
    if (type == "float") EXPECT_EQ(f->kind, list ? Kind::kFloatList : Kind::kFloat) << names.front();
    if (type == "str" && list) EXPECT_EQ(f->kind, Kind::kStrList) << names.front();
    // The default: SGLang-JAX's, or None resolved at start, or a documented deviation.
    if (def != "None" && def != "<required>")
      EXPECT_TRUE(same_default(f->default_text, def) || !f->deviation.empty())
          << names.front() << ": default " << f->default_text << ", SGLang-JAX " << def;
    // Each concrete choice of SGLang-JAX's is accepted.
    if (r[4].starts_with("[")) {
      std::string c = r[4];
      for (size_t q = c.find('"'); q != std::string::npos; q = c.find('"', q)) {
        const size_t e = c.find('"', q + 1);
        const std::string choice = c.substr(q + 1, e - q - 1);
        q = e + 1;
        if (choice.empty()) continue;
        EXPECT_NE(std::find(f->choices.begin(), f->choices.end(), choice), f->choices.end())
            << names.front() << " lacks the choice " << choice;
      }
    }
    // Passing the default value always starts.
    if (def != "None" && def != "<required>" && def != "False" && def != "True" && !list && nargs.empty()) {
      auto p = parse({names.front(), def});
      EXPECT_FALSE(p.exit_now) << names.front() << " " << def << ": " << p.output;
      EXPECT_TRUE(p.refusals.empty()) << names.front() << " " << def << ": " << p.refusals.front();
    }
  }
}

TEST(FlagTable, EveryConsideredSglangFlagIsKnownAndStartsAtItsDefault) {
  Table t;
  const std::set<std::string> skipped = {"npu",
                                         "mlx",
                                         "rocm",
                                         "hicache",
                                         "hisparse",
                                         "mm",
                                         "epd",
                                         "dllm",
                                         "ktransformers",
                                         "lmcache",
                                         "flexkv",
                                         "pdmux",
                                         "quant-modelopt",
                                         "quant-rl",
                                         "weights-remote",
                                         "spec-dflash",
                                         "spec-dspark",
                                         "spec-decoupled",
                                         "obs-dynamo",
                                         "grpc",
                                         "asr",
                                         "moe-elastic",
                                         "moe-deepep",
                                         "kernel-dsa",
                                         "parallel-dsa",
                                         "spec-dsa",
                                         "spec-moe",
                                         "features-dsa",
                                         "mamba",
                                         "kernel-mamba",
                                         "schedule-dpattn"};
  int considered = 0;
  for (const auto& r : rows_of("sglang_server_args_flags.txt")) {
    if (skipped.count(r[3])) continue;
    ++considered;
    const auto names = names_in(r[0]);
    for (const auto& n : names) EXPECT_NE(t.table.find(n), nullptr) << n << " (SGLang, " << r[3] << ")";
    const std::string def = r[1], kind = r[2];
    if ((kind == "int" || kind == "float" || kind == "str") && def != "None" && !def.empty() &&
        def.find(' ') == std::string::npos) {
      auto p = parse({names.front(), def});
      EXPECT_FALSE(p.exit_now) << names.front() << " " << def << ": " << p.output;
      EXPECT_TRUE(p.refusals.empty()) << names.front() << " " << def << ": " << p.refusals.front();
    }
  }
  EXPECT_GT(considered, 300);
}

TEST(FlagTable, EveryFlagHasAStatusAndAnIgnoredOrRefusedOneSaysWhy) {
  Table t;
  std::set<std::string> fields;
  for (const auto& f : t.table.rows()) {
    EXPECT_TRUE(fields.insert(f.field).second) << f.field << " twice";
    if (f.status != Status::kHonoured) EXPECT_FALSE(f.note.empty()) << f.names.front();
  }
}

TEST(FlagTable, IgnoredFlagWarnsOnceNamingIt) {
  auto p = parse({"--precompile-token-paddings", "1024", "2048", "--disable-precompile"});
  ASSERT_FALSE(p.exit_now) << p.output;
  int named = 0;
  for (const auto& n : p.notes) named += n.starts_with("--precompile-token-paddings has no effect") ? 1 : 0;
  EXPECT_EQ(named, 1);
  EXPECT_TRUE(p.refusals.empty());
}

TEST(FlagTable, RefusedFlagNamesTheFlagAndTheCapabilityUnlessDefault) {
  auto on = parse({"--multimodal"});
  ASSERT_EQ(on.refusals.size(), 1u);
  EXPECT_NE(on.refusals[0].find("--multimodal"), std::string::npos);
  EXPECT_NE(on.refusals[0].find("multimodal (image/video) inputs"), std::string::npos);
  auto pd = parse({"--disaggregation-mode", "prefill"});
  ASSERT_EQ(pd.refusals.size(), 1u);
  EXPECT_NE(pd.refusals[0].find("disaggregation"), std::string::npos);
  EXPECT_TRUE(parse({"--disaggregation-mode", "null", "--hicache-storage", "disable"}).refusals.empty());
  auto gguf = parse({"--load-format", "gguf"});
  ASSERT_EQ(gguf.refusals.size(), 1u);
  EXPECT_NE(gguf.refusals[0].find("--load-format gguf"), std::string::npos);
}

TEST(FlagTable, ArgparsePrefixesExpandWhenUnique) {
  auto p = parse({"--mem-frac", "0.5", "--max-prefill", "512"});
  ASSERT_FALSE(p.exit_now) << p.output;
  EXPECT_DOUBLE_EQ(p.args.mem_fraction_static, 0.5);
  EXPECT_EQ(p.args.max_prefill_tokens, 512);
  auto ambiguous = parse({"--max-lo", "3"});  // --max-loaded-loras, --max-loras-per-batch
  EXPECT_TRUE(ambiguous.exit_now);
}

TEST(FlagTable, StreamOutputIsIncrementalStreamingOutput) {
  auto p = parse({"--stream-output"});
  EXPECT_TRUE(p.args.incremental_streaming_output);
  EXPECT_TRUE(p.args.stream_output);
}

TEST(FlagTable, ServerInfoHasEverySglangJaxField) {
  auto p = parse({"--swa-full-tokens-ratio", "0.5", "--precompile-bs-paddings", "1", "8"});
  auto j = nlohmann::json::parse(server_args_to_json(p.args));
  for (const auto& r : rows_of("sglang-jax_server_args_flags.txt")) {
    std::string field = names_in(r[0]).back().substr(2);
    if (field == "model") field = "model_path";
    if (field == "speculative-draft-model") field = "speculative-draft-model-path";
    std::replace(field.begin(), field.end(), '-', '_');
    EXPECT_TRUE(j.contains(field)) << field;
  }
  EXPECT_DOUBLE_EQ(j["swa_full_tokens_ratio"].get<double>(), 0.5);
  EXPECT_EQ(j["precompile_bs_paddings"], nlohmann::json::array({1, 8}));
  EXPECT_EQ(j["moe_backend"], "epmoe");
  EXPECT_EQ(j["hicache_ratio"], 2.0);
  EXPECT_EQ(j["disable_topk_kernel"], true);
}

TEST(FlagDocs, CommittedDocsEqualTheGeneratedTable) {
  const std::string committed = read(std::string(SGL_SOURCE_DIR) + "/docs/flags.md");
  EXPECT_TRUE(committed == flags_markdown())
      << "docs/flags.md is stale: run `cmake --build <build> --target flags-doc`";
}

}  // namespace
}  // namespace sgl::server::flags
