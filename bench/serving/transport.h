// The HTTP the benchmark clients need: blocking calls (one thread per in-flight request keeps the
// timing code simple and exact), with SSE events delivered as they arrive.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sgl::bench {

struct Endpoint {
  std::string host = "127.0.0.1";
  std::string port = "30000";
  std::string api_key;  // sent as "Authorization: Bearer <key>" when set
  // Sent with every request: --header Key=Value, API_KEY's raw Authorization, a routing key.
  std::vector<std::pair<std::string, std::string>> headers = {};
};

// Parses "http://host:port[/...]" (or "host:port").
Endpoint parse_base_url(std::string_view url);
// The tools' --base-url (wins when set) or --host/--port, with OPENAI_API_KEY as the bearer key
// (else API_KEY as the raw Authorization value, as SGLang's get_auth_headers).
Endpoint endpoint_from_flags(const std::string& base_url, const std::string& host, int port);

struct HttpResult {
  int status = 0;    // 0: transport failure (see error)
  std::string body;  // non-SSE responses
  std::string error;
};

// Called with each SSE event's payload (after "data: "), "[DONE]" included.
using OnSseData = std::function<void(std::string_view data)>;

HttpResult http_get(const Endpoint& ep, std::string_view path, double timeout_s = 30);
// POST a JSON body; when the response is text/event-stream, events go to `on_data` as they arrive.
HttpResult http_post(const Endpoint& ep, std::string_view path, std::string_view json_body,
                     const OnSseData& on_data = {}, double timeout_s = 6 * 3600);

}  // namespace sgl::bench
