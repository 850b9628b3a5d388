// JSON text as Python's json.dumps(ensure_ascii=False) writes it: key order kept, ", " and ": "
// separators. SGLang re-serialises tool-call arguments this way, so clients comparing byte-for-byte
// with an SGLang server see the same `function.arguments` strings.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sgl::server {

// Parses one JSON value (surrounding whitespace allowed) and re-serialises it; nullopt when the
// text is not exactly one valid JSON value.
std::optional<std::string> python_json_reserialize(std::string_view json_text);

// A JSON string literal (quotes included) for `s`, escaped as Python does with ensure_ascii=False.
std::string python_json_string(std::string_view s);

// Finds the end of the JSON value that starts at text[pos] (after whitespace): returns the index
// one past its last character, or nullopt when the value is incomplete so far; -1 (as size_t max)
// is never returned. Invalid text yields an index at the point of failure wrapped in `invalid`.
struct JsonScan {
  enum class State { kComplete, kIncomplete, kInvalid } state = State::kIncomplete;
  size_t end = 0;  // kComplete: one past the value
};
JsonScan scan_json_value(std::string_view text, size_t pos);

// Value of a qwen3_coder <parameter> converted by its declared schema type (upstream SGLang's
// rules), returned as JSON text.
std::string coder_param_value_json(std::string_view raw, const std::string* schema_type);

}  // namespace sgl::server
