// Internal to json_schema_regex.cpp: the pattern pieces that do not recurse into sub-schemas
// (whitespace, strings, numbers, literals, bounded repetition, free-form JSON values).
//
// Every piece is a regex fragment usable as one atom in a concatenation. No fragment uses
// backreferences, lookaround, recursion or subroutine calls, so the final pattern works with
// pcre2_match (partial) and pcre2_dfa_match (with restart) alike.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/result.h"

namespace sgl::server::json_schema {

using Json = nlohmann::ordered_json;  // ordered: `properties` keep the schema's order

// Whitespace allowed between JSON tokens and around the top-level value. JSON allows any amount;
// the cap keeps a model from looping on newlines forever while leaving room for pretty-printing.
inline constexpr int kMaxWhitespace = 20;
// Free-form JSON (`{}`, a missing `items`, an open object's values) nests containers this deep.
inline constexpr int kAnyValueDepth = 3;
// PCRE2's largest repeat count ({m,n}); larger maxima are treated as unbounded.
inline constexpr int64_t kMaxRepeat = 65535;

// "[ \n\t]{0,kMaxWhitespace}".
const std::string& ws();

// `literal` with every regex metacharacter escaped.
std::string regex_escape(std::string_view literal);

// `atom` (one group or class) repeated min..max times; max < 0 = unbounded.
std::string repeat(std::string_view atom, int64_t min, int64_t max);

// Reads the non-negative integer keyword `key` of `schema`; absent → `fallback`.
Result<int64_t> read_count(const Json& schema, const char* key, int64_t fallback, const std::string& path);

// Reads `min_key`/`max_key` as a repeat range (max -1 = unbounded) and checks min <= max.
Result<std::pair<int64_t, int64_t>> read_range(const Json& schema, const char* min_key, const char* max_key,
                                               const std::string& path);

// A JSON string value for a `type: string` schema: `pattern`, then a known `format`, then
// `minLength`/`maxLength` (in characters; an escape sequence is one character).
Result<std::string> string_pattern(const Json& schema, const std::string& path);

// Any JSON string (the pattern for object keys in open objects).
const std::string& any_string();

// JSON integer / number; non_negative drops the minus sign (from `minimum` >= 0).
std::string integer_pattern(bool non_negative);
std::string number_pattern(bool non_negative);

// The exact compact serialization of `value` (for `const` / `enum`).
Result<std::string> literal_pattern(const Json& value, const std::string& path);

// Whether `value` is an instance of the JSON Schema type `type` ("integer" admits 2.0).
bool value_matches_type(const Json& value, std::string_view type);

// Any JSON value whose containers nest at most `depth` deep (0 = scalars only).
const std::string& any_value(int depth);

// Arrays / objects from already-built element patterns.
std::string array_of(const std::string& element, int64_t min_items, int64_t max_items);
std::string open_object_of(const std::string& value);

}  // namespace sgl::server::json_schema
