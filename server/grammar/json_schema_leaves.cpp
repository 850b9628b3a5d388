// Leaf patterns for json_schema_regex.cpp; see json_schema_leaves.h.
#include "server/grammar/json_schema_leaves.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace sgl::server::json_schema {
namespace {

std::string at(const std::string& path) { return path.empty() ? "/" : path; }

// One character of a JSON string's contents: anything but a quote, a backslash or a control
// character, or an escape sequence. The two branches differ in their first character, so
// matching never backtracks between them.
constexpr std::string_view kStringChar = R"((?:[^"\\\x00-\x1F]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})))";

constexpr std::string_view kDate = R"([0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01]))";
constexpr std::string_view kTime = R"((?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,9})?)";
constexpr std::string_view kOffset = R"((?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9]))";
constexpr std::string_view kUuid =
    "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
// Dots separate the domain labels and are not in the label class, so the split is unambiguous.
constexpr std::string_view kEmail = R"([a-zA-Z0-9._%+\-]+@[a-zA-Z0-9\-]+(?:\.[a-zA-Z0-9\-]+)+)";

// Contents (between the quotes) for the formats we know; "" for the others, which are ignored.
std::string format_contents(std::string_view format) {
  // RFC 3339: date-time needs an offset; a bare `time` may omit it (models rarely emit one).
  if (format == "date-time") return fmt::format("{}T{}{}", kDate, kTime, kOffset);
  if (format == "date") return std::string(kDate);
  if (format == "time") return fmt::format("{}{}?", kTime, kOffset);
  if (format == "uuid") return std::string(kUuid);
  if (format == "email") return std::string(kEmail);
  return "";
}

// JSON Schema patterns are conventionally written anchored; the anchors are ours to add.
std::string strip_anchors(std::string_view pattern) {
  if (!pattern.empty() && pattern.front() == '^') pattern.remove_prefix(1);
  if (!pattern.empty() && pattern.back() == '$') {
    size_t backslashes = 0;  // "\$" is a literal dollar: keep it
    for (size_t i = pattern.size() - 1; i > 0 && pattern[i - 1] == '\\'; --i) ++backslashes;
    if (backslashes % 2 == 0) pattern.remove_suffix(1);
  }
  return std::string(pattern);
}

std::string scalar_alternatives() {
  return fmt::format("{}|{}|true|false|null", any_string(), number_pattern(false));
}

}  // namespace

const std::string& ws() {
  static const std::string kWs = fmt::format(R"([ \n\t]{{0,{}}})", kMaxWhitespace);
  return kWs;
}

std::string regex_escape(std::string_view literal) {
  std::string out;
  out.reserve(literal.size() * 2);
  for (char c : literal) {
    if (std::string_view(R"(\^$.|?*+()[]{})").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string repeat(std::string_view atom, int64_t min, int64_t max) {
  std::string a(atom);
  if (max == 0) return "";
  if (min == 0 && max < 0) return a + "*";
  if (min == 1 && max < 0) return a + "+";
  if (min == 0 && max == 1) return a + "?";
  if (min == 1 && max == 1) return a;
  if (min == max) return fmt::format("{}{{{}}}", a, min);
  if (max < 0) return fmt::format("{}{{{},}}", a, min);
  return fmt::format("{}{{{},{}}}", a, min, max);
}

Result<int64_t> read_count(const Json& schema, const char* key, int64_t fallback, const std::string& path) {
  auto it = schema.find(key);
  if (it == schema.end()) return fallback;
  const Json& v = *it;
  bool integral = v.is_number_unsigned() || v.is_number_integer() ||
                  (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>());
  if (!integral || v.get<double>() < 0) {
    return invalid_argument(
        fmt::format("json_schema: '{}' must be a non-negative integer at {}", key, at(path)));
  }
  double d = v.get<double>();
  return d > 1e15 ? int64_t{1} << 50 : static_cast<int64_t>(d);  // huge = effectively unbounded
}

Result<std::pair<int64_t, int64_t>> read_range(const Json& schema, const char* min_key, const char* max_key,
                                               const std::string& path) {
  SGL_ASSIGN_OR_RETURN(int64_t min, read_count(schema, min_key, 0, path));
  SGL_ASSIGN_OR_RETURN(int64_t max, read_count(schema, max_key, -1, path));
  if (max >= 0 && min > max) {
    return invalid_argument(fmt::format("json_schema: {} ({}) is greater than {} ({}) at {}", min_key, min,
                                        max_key, max, at(path)));
  }
  if (min > kMaxRepeat) {
    return invalid_argument(
        fmt::format("json_schema: {} ({}) is larger than {} at {}", min_key, min, kMaxRepeat, at(path)));
  }
  if (max > kMaxRepeat) max = -1;
  return std::pair{min, max};
}

Result<std::string> string_pattern(const Json& schema, const std::string& path) {
  if (auto it = schema.find("pattern"); it != schema.end()) {
    if (!it->is_string()) {
      return invalid_argument(fmt::format("json_schema: 'pattern' must be a string at {}", at(path)));
    }
    // The pattern constrains the contents between the quotes (the caller's PCRE2 compile
    // reports an invalid one). Length bounds are not combined with it.
    return fmt::format("\"(?:{})\"", strip_anchors(it->get<std::string>()));
  }
  if (auto it = schema.find("format"); it != schema.end() && it->is_string()) {
    std::string contents = format_contents(it->get<std::string>());
    if (!contents.empty()) return "\"" + contents + "\"";
  }
  SGL_ASSIGN_OR_RETURN(auto range, read_range(schema, "minLength", "maxLength", path));
  return "\"" + repeat(kStringChar, range.first, range.second) + "\"";
}

const std::string& any_string() {
  static const std::string kAny = "\"" + repeat(kStringChar, 0, -1) + "\"";
  return kAny;
}

// \d rather than [0-9]: a one-byte opcode instead of a 32-byte class map, which matters in
// free-form JSON where numbers are copied many times. \d is ASCII-only without PCRE2_UCP.
std::string integer_pattern(bool non_negative) {
  return std::string(non_negative ? "" : "-?") + R"((?:0|[1-9]\d*))";
}

std::string number_pattern(bool non_negative) {
  return integer_pattern(non_negative) + R"((?:\.\d+)?(?:[eE][+\-]?\d+)?)";
}

Result<std::string> literal_pattern(const Json& value, const std::string& path) {
  try {
    return regex_escape(value.dump());  // compact: no whitespace inside objects and arrays
  } catch (const Json::exception& e) {
    return invalid_argument(
        fmt::format("json_schema: cannot serialize a const/enum value at {}: {}", at(path), e.what()));
  }
}

bool value_matches_type(const Json& value, std::string_view type) {
  if (type == "string") return value.is_string();
  if (type == "number") return value.is_number();
  if (type == "integer") {
    return value.is_number_integer() || value.is_number_unsigned() ||
           (value.is_number_float() && std::floor(value.get<double>()) == value.get<double>());
  }
  if (type == "boolean") return value.is_boolean();
  if (type == "null") return value.is_null();
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  return false;
}

const std::string& any_value(int depth) {
  // Built once: each level holds the one below twice in an array and twice in an object, so
  // the size grows 4x per level; kAnyValueDepth keeps it a few tens of kilobytes.
  static const std::array<std::string, kAnyValueDepth + 1> kLevels = [] {
    std::array<std::string, kAnyValueDepth + 1> levels;
    levels[0] = "(?:" + scalar_alternatives() + ")";
    for (int d = 1; d <= kAnyValueDepth; ++d) {
      const std::string& inner = levels[d - 1];
      levels[d] =
          fmt::format("(?:{}|{}|{})", scalar_alternatives(), array_of(inner, 0, -1), open_object_of(inner));
    }
    return levels;
  }();
  return kLevels[std::clamp(depth, 0, kAnyValueDepth)];
}

std::string array_of(const std::string& element, int64_t min_items, int64_t max_items) {
  const std::string open = R"(\[)" + ws();
  const std::string close = R"(\])";
  if (max_items == 0) return open + close;
  // Every element after the first comes after a comma, so the repetition is unambiguous.
  std::string rest = repeat("(?:" + ws() + "," + ws() + element + ")", min_items > 0 ? min_items - 1 : 0,
                            max_items < 0 ? -1 : max_items - 1);
  if (min_items == 0) return open + "(?:" + element + rest + ws() + ")?" + close;
  return open + element + rest + ws() + close;
}

std::string open_object_of(const std::string& value) {
  const std::string member = any_string() + ws() + ":" + ws() + value;
  return R"(\{)" + ws() + "(?:" + member + "(?:" + ws() + "," + ws() + member + ")*" + ws() + R"()?\})";
}

}  // namespace sgl::server::json_schema
