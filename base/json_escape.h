// JSON string escaping shared by every hand-written JSON writer (error bodies, Python-style
// re-serialisation): the escapes Python's json.dumps(ensure_ascii=False) writes.
#pragma once

#include <string>
#include <string_view>

namespace sgl {

// Appends `s` escaped for inside a JSON string literal (no surrounding quotes): \" \\ \n \r \t
// \b \f, other control characters as \u00XX, everything else (UTF-8 included) as is.
void append_json_escaped(std::string& out, std::string_view s);

}  // namespace sgl
