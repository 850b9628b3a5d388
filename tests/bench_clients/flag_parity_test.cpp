// bench_serving's command line against SGLang-JAX's bench_serving.py (tests/bench_clients/data/,
// extracted at the commit named on the file's first line): every flag and alias exists with the
// same arity, takes its default and each of its choices, and unique prefixes expand as argparse's
// allow_abbrev does. bench_one_batch(_server) are checked through --help by flag_lists_test.sh.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/argv_prefix.h"
#include "bench/serving/bench_serving_args.h"
#include "tests/flag_list.h"

namespace sgl::bench {
namespace {

std::vector<std::vector<std::string>> rows_of(const std::string& file) {
  return testing::read_flag_list(std::string(SGL_SOURCE_DIR) + "/tests/bench_clients/data/" + file);
}

using testing::unquote;

std::vector<std::string> choices_in(const std::string& cell) {
  std::vector<std::string> out;
  for (size_t q = cell.find('"'); q != std::string::npos; q = cell.find('"', q)) {
    const size_t e = cell.find('"', q + 1);
    out.push_back(cell.substr(q + 1, e - q - 1));
    q = e + 1;
  }
  return out;
}

struct Parsed {
  ServingArgs args;
  std::string error;
};

Parsed parse(std::vector<std::string> argv) {
  Parsed p;
  CLI::App app;
  add_serving_flags(app, p.args);
  std::reverse(argv.begin(), argv.end());  // CLI11 takes the arguments last to first
  try {
    app.parse(argv);
  } catch (const CLI::ParseError& e) {
    p.error = e.what();
  }
  return p;
}

TEST(BenchServingFlags, EverySglangJaxFlagWithItsArityDefaultAndChoices) {
  const auto rows = rows_of("sglang-jax_bench_serving_flags.txt");
  ASSERT_EQ(rows.size(), 66u);
  CLI::App app;
  ServingArgs a;
  add_serving_flags(app, a);
  for (const auto& r : rows) {
    const std::string name = r[0], def = unquote(r[1]), type = r[2], nargs = r[3];
    const CLI::Option* opt = app.get_option_no_throw(name);
    ASSERT_NE(opt, nullptr) << name << " is not a bench_serving flag";
    if (type == "store_true") {
      EXPECT_EQ(opt->get_expected_max(), 0) << name << " must be a switch";
      EXPECT_TRUE(parse({name}).error.empty()) << name << ": " << parse({name}).error;
      continue;
    }
    // nargs * takes zero or more values, as argparse's.
    EXPECT_EQ(opt->get_expected_min(), nargs == "*" ? 0 : 1) << name << " (nargs '" << nargs << "')";
    if (nargs == "+" || nargs == "*")
      EXPECT_GT(opt->get_expected_max(), 1) << name << " must take several values (nargs " << nargs << ")";
    else
      EXPECT_EQ(opt->get_expected_max(), 1) << name << " takes one value";
    // Passing the default value parses (None and Python expressions aside).
    if (def != "None" && !def.empty() && def.find('(') == std::string::npos && def.front() != '[') {
      const auto p = parse({name, def});
      EXPECT_TRUE(p.error.empty()) << name << " " << def << ": " << p.error;
    }
    // Each concrete choice parses (bench_serving may refuse some later, naming them).
    for (const auto& c : choices_in(r[4])) {
      const auto p = parse({name, c});
      EXPECT_TRUE(p.error.empty()) << name << " " << c << ": " << p.error;
    }
  }
}

TEST(BenchServingFlags, DefaultsAreSglangJaxs) {
  const auto p = parse({});
  ASSERT_TRUE(p.error.empty()) << p.error;
  const ServingArgs& a = p.args;
  EXPECT_EQ(a.backend, "sglang");
  EXPECT_EQ(a.dataset_name, "sharegpt");
  EXPECT_EQ(a.num_prompts, 1000);
  EXPECT_EQ(a.random_input_len, 1024);
  EXPECT_EQ(a.random_output_len, 1024);
  EXPECT_EQ(a.random_range_ratio, 0.0);
  EXPECT_EQ(a.request_rate, "inf");
  EXPECT_EQ(a.seed, 1);
  EXPECT_EQ(a.warmup_requests, 1);
  EXPECT_EQ(a.lora_request_distribution, "uniform");
  EXPECT_EQ(a.mooncake_workload, "conversation");
  EXPECT_EQ(a.profile_activities, (std::vector<std::string>{"CPU", "GPU"}));
  EXPECT_EQ(a.gsp_system_prompt_len, 2048);
  // Nothing in the defaults is refused or warned about.
  const auto check = check_serving_flags(a);
  EXPECT_TRUE(check.refusals.empty()) << check.refusals.front();
}

TEST(BenchServingFlags, UniquePrefixesExpandAsArgparse) {
  std::vector<std::string> known;
  for (const auto& r : rows_of("sglang-jax_bench_serving_flags.txt")) known.push_back(r[0]);
  const auto out =
      expand_flag_prefixes({"--num-prompt", "8", "--random-input", "64", "--max-conc=4", "--profile"}, known);
  EXPECT_EQ(out, (std::vector<std::string>{"--num-prompts", "8", "--random-input-len", "64",
                                           "--max-concurrency=4", "--profile"}));
  // Ambiguous (--random-i… is unique, --random is not) and exact names stay as they are.
  EXPECT_EQ(expand_flag_prefixes({"--random", "1"}, known)[0], "--random");
  const auto p = parse({"--num-prompts", "8", "--random-input-len", "64", "--max-concurrency", "4"});
  EXPECT_EQ(p.args.num_prompts, 8);
  EXPECT_EQ(p.args.random_input_len, 64);
  EXPECT_EQ(p.args.max_concurrency, 4);
}

}  // namespace
}  // namespace sgl::bench
