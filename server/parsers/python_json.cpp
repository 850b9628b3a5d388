#include "server/parsers/python_json.h"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "base/json_escape.h"

namespace sgl::server {
namespace {

using Json = nlohmann::ordered_json;

void append_string(std::string& out, std::string_view s) {
  out.push_back('"');
  append_json_escaped(out, s);
  out.push_back('"');
}

void dump(const Json& j, std::string& out) {
  switch (j.type()) {
    case Json::value_t::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [k, v] : j.items()) {
        if (!first) out += ", ";
        first = false;
        append_string(out, k);
        out += ": ";
        dump(v, out);
      }
      out.push_back('}');
      break;
    }
    case Json::value_t::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& v : j) {
        if (!first) out += ", ";
        first = false;
        dump(v, out);
      }
      out.push_back(']');
      break;
    }
    case Json::value_t::string:
      append_string(out, j.get_ref<const std::string&>());
      break;
    case Json::value_t::number_float: {
      double d = j.get<double>();
      // Python writes integral floats with ".0"; nlohmann does the same via its dump.
      out += std::isfinite(d) ? j.dump() : (std::isnan(d) ? "NaN" : (d > 0 ? "Infinity" : "-Infinity"));
      break;
    }
    default:
      out += j.dump();
      break;  // null, bool, integers
  }
}

std::optional<Json> parse(std::string_view text) {
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::string_view trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string lower(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

bool starts_with_any(const std::string& s, std::initializer_list<std::string_view> prefixes) {
  for (auto p : prefixes)
    if (s.starts_with(p)) return true;
  return false;
}

}  // namespace

std::optional<std::string> python_json_reserialize(std::string_view json_text) {
  auto j = parse(json_text);
  if (!j) return std::nullopt;
  std::string out;
  dump(*j, out);
  return out;
}

std::string python_json_string(std::string_view s) {
  std::string out;
  append_string(out, s);
  return out;
}

JsonScan scan_json_value(std::string_view text, size_t pos) {
  while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
  if (pos >= text.size()) return {JsonScan::State::kIncomplete, pos};
  if (text[pos] != '{' && text[pos] != '[') return {JsonScan::State::kInvalid, pos};
  std::string stack;
  bool in_string = false, escaped = false;
  for (size_t i = pos; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      stack.push_back(c == '{' ? '}' : ']');
    } else if (c == '}' || c == ']') {
      if (stack.empty() || stack.back() != c) return {JsonScan::State::kInvalid, i};
      stack.pop_back();
      if (stack.empty()) return {JsonScan::State::kComplete, i + 1};
    }
  }
  return {JsonScan::State::kIncomplete, text.size()};
}

std::string coder_param_value_json(std::string_view raw, const std::string* schema_type) {
  std::string as_string = python_json_string(raw);
  if (lower(trim(raw)) == "null") return "null";
  if (schema_type == nullptr || schema_type->empty()) return as_string;
  const std::string& t = *schema_type;
  if (t == "string" || t == "str" || t == "text" || t == "varchar" || t == "char" || t == "enum")
    return as_string;
  std::string v(trim(raw));
  if (starts_with_any(t, {"int", "uint", "long", "short", "unsigned"})) {
    if (v.empty()) return as_string;
    char* end = nullptr;
    errno = 0;
    long long x = std::strtoll(v.c_str(), &end, 10);
    if (errno != 0 || *end != '\0') return as_string;
    return std::to_string(x);
  }
  if (starts_with_any(t, {"num", "float"})) {
    if (v.empty()) return as_string;
    char* end = nullptr;
    double x = std::strtod(v.c_str(), &end);
    if (*end != '\0' || !std::isfinite(x)) return as_string;
    bool looks_float = v.find_first_of(".eE") != std::string::npos;
    if (!looks_float && x == std::floor(x) && std::fabs(x) < 9.2e18)
      return std::to_string(static_cast<long long>(x));
    std::string out;
    dump(Json(x), out);
    return out;
  }
  if (t == "boolean" || t == "bool" || t == "binary") return lower(v) == "true" ? "true" : "false";
  // object / array / anything else: JSON if it parses, else the string itself.
  if (auto j = parse(v)) {
    std::string out;
    dump(*j, out);
    return out;
  }
  return as_string;
}

}  // namespace sgl::server
