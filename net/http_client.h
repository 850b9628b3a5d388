// A small HTTP/1.1 client on the same stack as the server, for bench/ and tests: one keep-alive
// connection reused across requests (reconnecting when the server closed it), JSON bodies, and
// SSE responses read event by event. AsyncHttpClient is the coroutine form (many concurrent
// clients on one io_context); HttpClient wraps it for blocking use.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "net/http_message.h"
#include "net/sse_parser.h"

namespace sgl::net {

struct ClientResponse {
  int status = 0;
  HeaderList headers;
  std::string body;       // for a streamed SSE answer: empty (events went to the callback)
  size_t events = 0;      // SSE events delivered
  bool saw_done = false;  // the stream ended with "data: [DONE]"

  std::string_view header(std::string_view name) const { return find_header(headers, name); }
};

struct ClientOptions {
  std::chrono::milliseconds timeout{600000};  // per connect / write / read operation
};

// "http://host:port[/...]" → host and port (port 80 when absent).
struct BaseUrl {
  std::string host;
  uint16_t port = 80;
};
Result<BaseUrl> parse_base_url(std::string_view url);

class AsyncHttpClient {
 public:
  AsyncHttpClient(boost::asio::any_io_executor executor, std::string host, uint16_t port,
                  ClientOptions options = {});
  ~AsyncHttpClient();
  AsyncHttpClient(AsyncHttpClient&&) noexcept;
  AsyncHttpClient& operator=(AsyncHttpClient&&) noexcept;

  // Sends one request ("application/json" body when non-empty) and reads the whole response.
  boost::asio::awaitable<Result<ClientResponse>> request(std::string method, std::string target,
                                                         std::string body = {}, HeaderList headers = {});
  // Like request(), but an SSE answer is delivered event by event to on_event (without the
  // "data: " prefix; "[DONE]" is not delivered, it ends the stream). on_event returning false
  // closes the connection (what a disconnecting client does). Non-SSE answers (errors) land in body.
  boost::asio::awaitable<Result<ClientResponse>> stream(std::string method, std::string target,
                                                        std::string body, SseParser::EventFn on_event,
                                                        HeaderList headers = {});
  void close();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

class HttpClient {
 public:
  HttpClient(std::string host, uint16_t port, ClientOptions options = {});
  ~HttpClient();

  Result<ClientResponse> request(std::string method, std::string target, std::string body = {},
                                 HeaderList headers = {});
  Result<ClientResponse> get(std::string target) { return request("GET", std::move(target)); }
  Result<ClientResponse> post_json(std::string target, std::string json) {
    return request("POST", std::move(target), std::move(json));
  }
  Result<ClientResponse> stream(std::string method, std::string target, std::string body,
                                SseParser::EventFn on_event, HeaderList headers = {});
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sgl::net
