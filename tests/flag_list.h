// Reads the flag lists extracted from SGLang / SGLang-JAX (tests/*/data/*_flags.txt): a header line
// naming the commit, then one tab-separated row per add_argument — options, default, type/action,
// nargs, choices. Shared by the launch-flag and bench-flag parity tests.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace sgl::testing {

// The rows of `path` (every row padded to five columns); empty when the file cannot be read.
inline std::vector<std::vector<std::string>> read_flag_list(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::vector<std::string>> out;
  std::string line;
  std::getline(in, line);  // the header names the commit
  while (std::getline(in, line)) {
    std::vector<std::string> cols;
    size_t start = 0;
    for (size_t tab; (tab = line.find('\t', start)) != std::string::npos; start = tab + 1)
      cols.push_back(line.substr(start, tab - start));
    cols.push_back(line.substr(start));
    if (cols.size() < 5) cols.resize(5);
    out.push_back(cols);
  }
  return out;
}

// A Python string literal's text ("sglang" → sglang); anything else as it is.
inline std::string unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

}  // namespace sgl::testing
