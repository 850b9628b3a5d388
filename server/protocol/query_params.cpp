#include "server/protocol/query_params.h"

#include <boost/url/parse_query.hpp>

namespace sgl::server {

std::optional<std::string> query_param(std::string_view query, std::string_view key) {
  auto params = boost::urls::parse_query(query);
  if (!params) return std::nullopt;
  for (const auto& p : *params) {
    if (p.key.decode() != key) continue;
    return p.has_value ? p.value.decode() : std::string();
  }
  return std::nullopt;
}

}  // namespace sgl::server
