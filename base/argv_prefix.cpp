#include "base/argv_prefix.h"

#include <map>

namespace sgl {

std::vector<std::string> expand_flag_prefixes(std::vector<std::string> args,
                                              const std::vector<std::vector<std::string>>& options) {
  std::map<std::string, size_t> owner;  // flag name → its option
  for (size_t i = 0; i < options.size(); ++i)
    for (const auto& n : options[i]) owner.emplace(n, i);
  for (auto& a : args) {
    if (a == "--") break;
    if (!a.starts_with("--")) continue;
    const size_t eq = a.find('=');
    const std::string name = a.substr(0, eq);
    if (name.size() < 3 || owner.count(name)) continue;
    // Unique when every name it starts belongs to one option (argparse treats an option's own
    // aliases as one match: --random-in for --random-input-len / --random-input).
    const std::string* first = nullptr;
    bool unique = true;
    size_t opt = 0;
    for (auto it = owner.lower_bound(name); it != owner.end() && it->first.starts_with(name); ++it) {
      if (first == nullptr) {
        first = &it->first;
        opt = it->second;
      } else if (it->second != opt) {
        unique = false;
      }
    }
    if (first != nullptr && unique) a = *first + (eq == std::string::npos ? "" : a.substr(eq));
  }
  return args;
}

std::vector<std::string> expand_flag_prefixes(std::vector<std::string> args,
                                              const std::vector<std::string>& known) {
  std::vector<std::vector<std::string>> options;
  for (const auto& n : known) options.push_back({n});
  return expand_flag_prefixes(std::move(args), options);
}

}  // namespace sgl
