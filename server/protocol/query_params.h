// Query-string parameters of a request target (Boost.URL's parser: percent-decoding, '+' as is).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sgl::server {

// The decoded value of the first parameter named `key` in `query` (the text after '?'); nullopt
// when absent or when the query is malformed. A key without '=' has the empty value.
std::optional<std::string> query_param(std::string_view query, std::string_view key);

}  // namespace sgl::server
