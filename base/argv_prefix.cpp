#include "base/argv_prefix.h"

#include <algorithm>
#include <set>

namespace sgl {

std::vector<std::string> expand_flag_prefixes(std::vector<std::string> args,
                                              const std::vector<std::string>& known) {
  const std::set<std::string> names(known.begin(), known.end());
  for (auto& a : args) {
    if (a == "--") break;
    if (!a.starts_with("--")) continue;
    const size_t eq = a.find('=');
    const std::string name = a.substr(0, eq);
    if (name.size() < 3 || names.count(name)) continue;
    const std::string* only = nullptr;
    int matches = 0;
    for (auto it = names.lower_bound(name); it != names.end() && it->starts_with(name); ++it) {
      only = &*it;
      ++matches;
    }
    if (matches == 1) a = *only + (eq == std::string::npos ? "" : a.substr(eq));
  }
  return args;
}

}  // namespace sgl
