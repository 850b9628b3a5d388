// Typed reads of request-body fields from a simdjson DOM, each failure an Error that names
// the field as pydantic would ("sampling_params.top_p: Input should be a valid number").
// JSON null is "not given" everywhere, as SGLang treats it.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace sgl::server::json {

using Element = simdjson::dom::element;
using Object = simdjson::dom::object;
// Copy arrays out of simdjson_result before iterating: value_unsafe() of a temporary dangles.
using Array = simdjson::dom::array;

// Parses `body` into `parser` (simdjson validates UTF-8; NaN/Infinity literals are not JSON).
Result<Element> parse_body(simdjson::dom::parser& parser, std::string_view body);

// The value at `key`, or nullopt when absent or null.
std::optional<Element> find(Object obj, std::string_view key);

Error type_error(std::string_view path, std::string_view expected);

Result<int64_t> as_int(Element el, std::string_view path);  // integral floats (8.0) accepted
Result<double> as_number(Element el, std::string_view path);
Result<bool> as_bool(Element el, std::string_view path);
Result<std::string> as_string(Element el, std::string_view path);
Result<Object> as_object(Element el, std::string_view path);
Result<std::vector<int64_t>> as_int_list(Element el, std::string_view path);
// A string or a list of strings (OpenAI's `stop`).
Result<std::vector<std::string>> as_string_or_list(Element el, std::string_view path);

// Reads `obj[key]` into `out` when present and not null; leaves `out` alone otherwise.
Status read(Object obj, std::string_view key, std::string_view path, int64_t& out);
Status read(Object obj, std::string_view key, std::string_view path, int& out);
Status read(Object obj, std::string_view key, std::string_view path, double& out);
Status read(Object obj, std::string_view key, std::string_view path, bool& out);
Status read(Object obj, std::string_view key, std::string_view path, std::string& out);
Status read(Object obj, std::string_view key, std::string_view path, std::optional<int64_t>& out);
Status read(Object obj, std::string_view key, std::string_view path, std::optional<std::string>& out);

// Compact JSON text of an element (for pass-through fields such as tools or json_schema).
std::string to_json(Element el);

}  // namespace sgl::server::json
