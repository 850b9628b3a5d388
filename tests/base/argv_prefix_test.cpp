// argparse's unique-prefix abbreviations: a prefix of one flag (or of several names of one option)
// expands; an ambiguous or unknown one, an exact name, and anything after "--" stay as written.
#include "base/argv_prefix.h"

#include <gtest/gtest.h>

namespace sgl {
namespace {

TEST(ArgvPrefix, UniquePrefixesExpandAliasesOfOneOptionCountOnce) {
  const std::vector<std::vector<std::string>> options = {{"--random-input-len", "--random-input"},
                                                         {"--random-output-len"},
                                                         {"--random-range-ratio"},
                                                         {"--num-prompts"},
                                                         {"--model"},
                                                         {"--model-path"}};
  const std::vector<std::string> got =
      expand_flag_prefixes({"--num-prompt", "4", "--random-in=16", "--random-o", "2", "--random", "--model",
                            "m", "--model-p", "x", "--", "--num"},
                           options);
  const std::vector<std::string> want = {"--num-prompts",
                                         "4",
                                         "--random-input=16",
                                         "--random-output-len",
                                         "2",
                                         "--random",
                                         "--model",
                                         "m",
                                         "--model-path",
                                         "x",
                                         "--",
                                         "--num"};
  EXPECT_EQ(got, want);
  // Flat names: two names are two matches.
  EXPECT_EQ(
      expand_flag_prefixes({"--random-in"}, std::vector<std::string>{"--random-input-len", "--random-input"}),
      std::vector<std::string>{"--random-in"});
}

}  // namespace
}  // namespace sgl
