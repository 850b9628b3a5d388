// Base64 of raw little-endian bytes (embeddings' encoding_format "base64", routed expert ids), as
// numpy's tobytes() + b64encode give them. Beast's encoder; x86 is little-endian already.
#pragma once

#include <boost/beast/core/detail/base64.hpp>
#include <string>
#include <vector>

namespace sgl::server {

template <class T>
std::string base64_of(const std::vector<T>& v) {
  namespace b64 = boost::beast::detail::base64;
  std::string out(b64::encoded_size(v.size() * sizeof(T)), '\0');
  out.resize(b64::encode(out.data(), v.data(), v.size() * sizeof(T)));
  return out;
}

}  // namespace sgl::server
