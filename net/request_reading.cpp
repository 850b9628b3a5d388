#include "net/detail/request_reading.h"

#include <algorithm>
#include <boost/beast/http/error.hpp>
#include <cstdint>

namespace sgl::net::detail {

namespace http = boost::beast::http;

void apply_limits(RequestParser& parser, const ServerOptions& options) {
  parser.header_limit(static_cast<std::uint32_t>(std::min<size_t>(options.max_header_bytes, UINT32_MAX)));
  parser.body_limit(options.max_request_bytes);
}

std::optional<ReadFailure> oversized_header(const RequestParser& parser, const ServerOptions& options) {
  const auto& msg = parser.get();
  size_t bytes = msg.target().size();
  for (const auto& f : msg) bytes += f.name_string().size() + f.value().size();
  if (bytes <= options.max_header_bytes) return std::nullopt;
  ReadFailure f;
  f.status = 431;
  f.message = "Request header fields too large";
  f.partial.method = std::string(msg.method_string());
  f.partial.target = std::string(msg.target());
  f.partial.path = f.partial.target.substr(0, f.partial.target.find('?'));
  return f;
}

std::optional<ReadFailure> read_failure(const RequestParser& parser, const boost::beast::error_code& ec,
                                        const ServerOptions& options) {
  ReadFailure f;
  // The start line is parsed before the fields, so it is known even when the headers are not
  // done: a body over the limit is refused from Content-Length, and /v1/ picks OpenAI's shape.
  if (parser.is_header_done() || !parser.get().target().empty()) {
    f.partial.method = std::string(parser.get().method_string());
    f.partial.target = std::string(parser.get().target());
    f.partial.path = f.partial.target.substr(0, f.partial.target.find('?'));
  }
  if (ec == http::error::header_limit) {
    f.status = 431;
    f.message = "Request header fields too large";
  } else if (ec == http::error::body_limit) {
    f.status = 413;
    f.message = "Request body too large (limit " + std::to_string(options.max_request_bytes) + " bytes)";
  } else if (ec.category() == http::make_error_code(http::error::end_of_stream).category() &&
             ec != http::error::end_of_stream && ec != http::error::partial_message) {
    f.status = 400;
    f.message = "Malformed HTTP request: " + ec.message();
  } else {
    return std::nullopt;  // timeouts, resets, EOF: nothing more to say on this connection
  }
  return f;
}

Request to_request(http::request<http::string_body>&& msg, const std::string& remote) {
  Request req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  auto q = req.target.find('?');
  req.path = req.target.substr(0, q);
  if (q != std::string::npos) req.query = req.target.substr(q + 1);
  req.headers.reserve(8);
  for (const auto& field : msg)
    req.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  req.body = std::move(msg.body());
  req.remote_address = remote;
  return req;
}

}  // namespace sgl::net::detail
