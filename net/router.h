// Maps (method, path) to a handler coroutine. Unknown paths answer 404, known paths with another
// method 405 with an Allow header; both bodies come from the caller's error formatter, because
// the error shape depends on the API (OpenAI error object on /v1/*, SGLang's on native routes).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "net/exchange.h"
#include "net/http_message.h"

namespace sgl::net {

// A handler returns the response to send; if it streamed (Exchange::start_stream/write_event),
// the returned value is ignored and the stream is terminated if the handler did not.
using Handler = std::function<boost::asio::awaitable<Response>(Exchange&)>;

// Builds the body of an error the net layer itself produces (404, 405, 408, 413, 431, 503, 500).
// `request` holds whatever was parsed (method and path may be empty for unparsable requests).
using ErrorFormatter = std::function<Response(int status, std::string_view message, const Request& request)>;

// {"error":{"message":...,"code":status}}
Response default_error_response(int status, std::string_view message, const Request& request);

class Router {
 public:
  Router();

  // Registers `handler` for `method` (upper case) on the exact `path` (no query).
  Router& add(std::string method, std::string path, Handler handler);
  Router& get(std::string path, Handler h) { return add("GET", std::move(path), std::move(h)); }
  Router& post(std::string path, Handler h) { return add("POST", std::move(path), std::move(h)); }
  // Registers `handler` for every path that starts with `prefix` and has no exact route (the
  // longest prefix wins), e.g. "/v1/models/" so that any model name gets the API's own 404.
  Router& add_prefix(std::string method, std::string prefix, Handler handler);
  void set_error_formatter(ErrorFormatter formatter) { formatter_ = std::move(formatter); }

  // What to run for a request: a handler, or the 404/405 response to send.
  struct Match {
    const Handler* handler = nullptr;
    Response error;
  };
  Match match(const Request& request) const;

  Response error(int status, std::string_view message, const Request& request) const {
    return formatter_(status, message, request);
  }

 private:
  using MethodMap = std::map<std::string, Handler>;
  std::map<std::string, MethodMap, std::less<>> routes_;    // path -> method -> handler
  std::map<std::string, MethodMap, std::less<>> prefixes_;  // prefix -> method -> handler
  ErrorFormatter formatter_;
};

}  // namespace sgl::net
