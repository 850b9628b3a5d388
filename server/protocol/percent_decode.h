// Percent-decoding of a URL path segment, as Starlette (and so SGLang) decodes paths before
// routing: the OpenAI SDKs encode a model id such as "/work/models/qwen" as %2Fwork%2F...
#pragma once

#include <string>
#include <string_view>

namespace sgl::server {

// %XX (either case) becomes its byte; a '%' not followed by two hex digits stays as it is, as
// Python's urllib.parse.unquote leaves it. '+' is not a space in a path.
std::string percent_decode(std::string_view s);

}  // namespace sgl::server
