#include "server/flags/config_file.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "base/argv_prefix.h"
#include "server/flags/flag_table.h"

namespace sgl::server::flags {
namespace {

using OJson = nlohmann::ordered_json;

// PyYAML's safe_load resolves plain scalars by YAML 1.1's rules; SGLang then prints them with
// str(). Quoted scalars are strings whatever they look like.
enum class ScalarType { kNull, kBool, kInt, kFloat, kString };

ScalarType resolve(const YAML::Node& n) {
  if (n.Tag() == "!") return ScalarType::kString;  // quoted
  const std::string& s = n.Scalar();
  static const std::set<std::string> nulls = {"", "~", "null", "Null", "NULL"};
  static const std::set<std::string> bools = {"yes",  "Yes",  "YES",  "no",    "No",    "NO",
                                              "true", "True", "TRUE", "false", "False", "FALSE",
                                              "on",   "On",   "ON",   "off",   "Off",   "OFF"};
  static const std::regex int_re(R"([-+]?(0|[1-9][0-9_]*))");
  static const std::regex float_re(
      R"([-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+][0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))");
  if (nulls.contains(s)) return ScalarType::kNull;
  if (bools.contains(s)) return ScalarType::kBool;
  if (std::regex_match(s, int_re)) return ScalarType::kInt;
  if (std::regex_match(s, float_re) && s != "." && s != "-." && s != "+.") return ScalarType::kFloat;
  return ScalarType::kString;
}

bool bool_value(const std::string& s) {
  return s == "yes" || s == "Yes" || s == "YES" || s == "true" || s == "True" || s == "TRUE" || s == "on" ||
         s == "On" || s == "ON";
}

std::string without_underscores(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
  return s;
}

OJson to_json(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Sequence: {
      OJson a = OJson::array();
      for (const auto& item : n) a.push_back(to_json(item));
      return a;
    }
    case YAML::NodeType::Map: {
      OJson o = OJson::object();
      for (const auto& kv : n) o[kv.first.Scalar()] = to_json(kv.second);
      return o;
    }
    case YAML::NodeType::Scalar:
      switch (resolve(n)) {
        case ScalarType::kNull:
          return nullptr;
        case ScalarType::kBool:
          return bool_value(n.Scalar());
        case ScalarType::kInt: {
          int64_t v = 0;
          const std::string s = without_underscores(n.Scalar()[0] == '+' ? n.Scalar().substr(1) : n.Scalar());
          if (std::from_chars(s.data(), s.data() + s.size(), v).ec == std::errc()) return v;
          return s;  // beyond int64: keep the digits
        }
        case ScalarType::kFloat: {
          const std::string s = without_underscores(n.Scalar());
          if (s.find("nan") != std::string::npos || s.find("NaN") != std::string::npos ||
              s.find("NAN") != std::string::npos)
            return std::nan("");
          return std::stod(s.find_first_of("iI") != std::string::npos
                               ? (s[0] == '-' ? std::string("-inf") : std::string("inf"))
                               : s);
        }
        case ScalarType::kString:
          return n.Scalar();
      }
      break;
    default:
      break;
  }
  return nullptr;
}

// A scalar as SGLang's str(value) writes it into argv (None for null; the text otherwise, which
// the flag's own parser reads as Python's str() of the value would).
std::string scalar_text(const YAML::Node& n) {
  if (!n.IsScalar()) return to_json(n).dump();
  switch (resolve(n)) {
    case ScalarType::kNull:
      return "None";
    case ScalarType::kBool:
      return bool_value(n.Scalar()) ? "true" : "false";
    default:
      return n.Scalar();
  }
}

bool has_yaml_suffix(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".yaml" || ext == ".yml";
}

// The options the command line gives (each by its table row), which the file must not override.
std::set<const Flag*> given_on_command_line(const std::vector<std::string>& args, const FlagTable& table) {
  std::set<const Flag*> given;
  for (const auto& a : args) {
    if (a == "--") break;
    if (!a.starts_with("--")) continue;
    if (const Flag* f = table.find(a.substr(0, a.find('=')))) given.insert(f);
  }
  return given;
}

sgl::Status append_flag(std::vector<std::string>& out, const Flag& f, const std::string& name,
                   const YAML::Node& v) {
  if (v.IsScalar() && resolve(v) == ScalarType::kBool &&
      (f.kind == Kind::kTrue || f.kind == Kind::kFalse || f.kind == Kind::kBoolPair)) {
    if (bool_value(v.Scalar()))
      out.push_back(name);
    else if (f.kind == Kind::kBoolPair)
      out.push_back("--no-" + f.names.front().substr(2));
    return ok_status();
  }
  if (f.kind == Kind::kTrue || f.kind == Kind::kFalse || f.kind == Kind::kBoolPair)
    return invalid_argument(fmt::format("{} takes no value: give true or false, got {}", name,
                                        v.IsScalar() ? "'" + v.Scalar() + "'" : to_json(v).dump()));
  if (v.IsSequence()) {
    if (v.size() == 0) return ok_status();  // SGLang skips an empty list
    out.push_back(name);
    for (const auto& item : v) out.push_back(scalar_text(item));
    return ok_status();
  }
  out.push_back(name);
  out.push_back(v.IsMap() ? to_json(v).dump() : scalar_text(v));
  return ok_status();
}

}  // namespace

Result<std::vector<std::string>> expand_config_file(std::vector<std::string> args, const FlagTable& table) {
  std::vector<size_t> at;
  for (size_t i = 0; i < args.size() && args[i] != "--"; ++i)
    if (args[i] == "--config" || args[i].starts_with("--config=")) at.push_back(i);
  if (at.empty()) return args;
  if (at.size() > 1) return invalid_argument("Multiple config files specified! Only one allowed.");
  std::string path;
  if (args[at[0]] == "--config") {
    if (at[0] + 1 >= args.size() || args[at[0] + 1].starts_with("--"))
      return invalid_argument("No config file specified after --config flag!");
    path = args[at[0] + 1];
  } else {
    path = args[at[0]].substr(std::string("--config=").size());
  }
  if (!has_yaml_suffix(path))
    return invalid_argument(fmt::format("Config file must be YAML format (.yaml or .yml), got: {}", path));
  if (!std::filesystem::is_regular_file(path))
    return invalid_argument(fmt::format("Config file not found: {}", path));

  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return invalid_argument(fmt::format("Config file {}: {}", path, e.what()));
  }
  if (root.IsNull()) return args;  // an empty file
  if (!root.IsMap())
    return invalid_argument(fmt::format("Config file {} must contain a mapping at root level", path));

  const auto given = given_on_command_line(args, table);
  std::vector<std::string> from_file;
  for (const auto& kv : root) {
    if (!kv.first.IsScalar())
      return invalid_argument(fmt::format("Config file {}: keys must be flag names", path));
    std::string key = kv.first.Scalar();
    while (key.starts_with("-")) key.erase(0, 1);
    std::string name = "--" + key;
    std::replace(name.begin(), name.end(), '_', '-');
    // argparse takes a unique prefix in the file as on the command line.
    name = expand_flag_prefixes({name}, table.long_names()).front();
    const Flag* f = table.find(name);
    if (!f)
      return invalid_argument(fmt::format("Config file {}: unknown option '{}'", path, kv.first.Scalar()));
    if (given.contains(f)) continue;  // the command line wins
    if (auto st = append_flag(from_file, *f, name, kv.second); !st.ok())
      return invalid_argument(fmt::format("Config file {}: {}", path, st.error().message));
  }
  from_file.insert(from_file.end(), std::make_move_iterator(args.begin()),
                   std::make_move_iterator(args.end()));
  return from_file;
}

}  // namespace sgl::server::flags
