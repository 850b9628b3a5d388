// Helpers shared by the filters (builtins.cpp) and the Python methods (methods.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "server/text/jinja/value.h"

namespace sgl::text::jinja {

bool is_ws(char c);
std::string jinja_title(const std::string& s);
std::string py_center(const std::string& s, int64_t width, const std::string& fill);
// str.strip/lstrip/rstrip: `chars` (a string) or whitespace.
std::string strip_chars(const std::string& s, const Value* chars, bool left, bool right);
// str.split/rsplit: `sep` none → runs of whitespace; maxsplit < 0 → no limit.
Value split(const std::string& s, const Value* sep, int64_t maxsplit, bool from_right);
std::string replace_all(const std::string& s, const std::string& from, const std::string& to, int64_t count);
// Dotted attribute path lookup (`a.b`), undefined when missing.
Value attr_of(const Value& v, const std::string& path);
// list(v): items of a list, keys of a dict, characters of a string.
std::vector<Value> items_of(const Value& v);
// len(v), strings counted in code points.
int64_t length_of(const Value& v);

}  // namespace sgl::text::jinja
