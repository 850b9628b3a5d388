// Small helpers shared by the route handlers: error answers in each API's shape, the OpenAI
// content-type rule, unix time.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "base/result.h"
#include "net/http_message.h"
#include "server/protocol/api_error.h"

namespace sgl::server {

// A 503 (queue full, not ready) carries Retry-After so clients back off instead of failing.
inline net::Response with_retry_after(net::Response r) {
  if (r.status == 503) r.headers.emplace_back("Retry-After", "1");
  return r;
}
inline net::Response native_error(const Error& e) {
  return with_retry_after(net::Response::json(http_status_of(e), native_error_body(e)));
}
inline net::Response openai_error(const Error& e) {
  return with_retry_after(net::Response::json(http_status_of(e), openai_error_body(e)));
}

inline int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// SGLang's OpenAI routes accept only application/json bodies (parameters after ';' ignored).
Status check_json_content_type(const net::Request& req);

}  // namespace sgl::server
