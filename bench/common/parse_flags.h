// Command-line parsing for the SGLang-compatible bench tools: Python's argparse lets users shorten
// a long flag to any unique prefix (--num-prompt for --num-prompts), and SGLang's documented
// command lines and users' scripts rely on it, so the tools expand prefixes before CLI11 parses.
#pragma once

#include <CLI/CLI.hpp>
#include <algorithm>
#include <string>
#include <vector>

#include "base/argv_prefix.h"

namespace sgl::bench {

// argv without the program name, each unique prefix of a long option of `app` spelled out.
inline std::vector<std::string> expand_flags(const CLI::App& app, int argc, char** argv) {
  std::vector<std::vector<std::string>> known;  // each option's long names
  for (const CLI::Option* o : app.get_options()) {
    known.emplace_back();
    for (const std::string& n : o->get_lnames()) known.back().push_back("--" + n);
  }
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  return expand_flag_prefixes(std::move(args), known);
}

// Parses already expanded arguments. Returns -1 to go on, else the exit code (0 after --help).
inline int parse_expanded(CLI::App& app, std::vector<std::string> args) {
  // argparse keeps the last of a repeated single-valued option (CLI11 would refuse the repeat).
  for (CLI::Option* o : app.get_options())
    if (o->get_expected_max() == 1 && o->get_multi_option_policy() == CLI::MultiOptionPolicy::Throw)
      o->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  std::reverse(args.begin(), args.end());  // CLI11 takes the arguments reversed
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return -1;
}

// Parses argv into `app` with unique-prefix expansion. Returns -1 to go on, else the exit code
// (0 after --help).
inline int parse_flags(CLI::App& app, int argc, char** argv) {
  return parse_expanded(app, expand_flags(app, argc, argv));
}

}  // namespace sgl::bench
