// HTTP/1.1 server: a listener coroutine accepts connections and spawns one session coroutine per
// connection on one of N io threads (an io_context each). Sessions keep connections alive, answer
// pipelined requests in order, enforce header/body limits and timeouts, and cap connections.
// Beast lives in the .cpp files only (pimpl).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/result.h"
#include "net/router.h"

namespace sgl::net {

struct ServerOptions {
  std::string host = "0.0.0.0";
  uint16_t port = 30000;                           // 0: pick a free port (see HttpServer::port())
  int threads = 0;                                 // io_context threads; 0: min(4, hardware threads)
  size_t max_request_bytes = 64u << 20;            // body limit → 413
  size_t max_header_bytes = 16u << 10;             // request line + headers → 431
  size_t max_connections = 4096;                   // more: the longest-idle one closes, else 503
  std::chrono::milliseconds read_timeout{30000};   // a request must arrive within this → 408/close
  std::chrono::milliseconds idle_timeout{60000};   // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{60000};  // a client that stops reading is dropped
};

class HttpServer {
 public:
  // Binds, listens and starts the io threads. Errors (address in use, bad host) come back as values.
  static Result<std::unique_ptr<HttpServer>> start(ServerOptions options, Router router);
  ~HttpServer();  // stop(0) if still running
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  uint16_t port() const;
  // The io_context's executor, for the caller's own coroutines (e.g. a signal_set for SIGTERM).
  boost::asio::any_io_executor executor() const;
  size_t active_connections() const;
  // Graceful shutdown: stop accepting, close idle keep-alive connections, let running exchanges
  // (streams included) finish within `grace`, then close everything and join the io threads.
  // Returns true when every exchange finished within `grace`. Safe to call more than once, from
  // any thread except the server's own io threads (it joins them).
  bool stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));
  // The same, but when `grace` runs out with exchanges still running, `on_grace_expired` runs once
  // (on the calling thread) so the caller can end them properly, e.g. abort their requests so that
  // streams write a final event and their terminator instead of being cut mid-chunk; they get
  // `wind_down` more before the rest are closed. Returns true when every exchange ended by itself
  // within `grace`.
  bool stop(std::chrono::milliseconds grace, const std::function<void()>& on_grace_expired,
            std::chrono::milliseconds wind_down);
  bool stopping() const;

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sgl::net
