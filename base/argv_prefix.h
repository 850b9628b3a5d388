// argparse's allow_abbrev for CLI11 command lines: SGLang's tools accept any unique prefix of a
// long flag (--num-prompt for --num-prompts), and users' scripts rely on it.
#pragma once

#include <string>
#include <vector>

namespace sgl {

// Rewrites each "--prefix" (or "--prefix=value") that is not itself a known flag but starts
// exactly one known flag into that flag. Ambiguous and unknown prefixes stay as they are, for the
// parser to report. Tokens after a bare "--" are left alone.
std::vector<std::string> expand_flag_prefixes(std::vector<std::string> args,
                                              const std::vector<std::string>& known);
// The same with each option's names grouped: a prefix of several names of ONE option is unique.
std::vector<std::string> expand_flag_prefixes(std::vector<std::string> args,
                                              const std::vector<std::vector<std::string>>& options);

}  // namespace sgl
