// Internal: one accepted TCP connection and the state the server shares with it. Includes Beast,
// so only net/*.cpp include this header.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <unordered_map>
#include <vector>

#include "net/http_server.h"

namespace sgl::net::detail {

class Connection;

// WHY not a braced list at the call site: g++ 12 rejects initializer_list temporaries inside
// co_await expressions ("array used as initializer").
template <class... B>
std::array<boost::asio::const_buffer, sizeof...(B)> buffers(const B&... b) {
  return std::array<boost::asio::const_buffer, sizeof...(B)>{boost::asio::const_buffer(b)...};
}

// Status line and headers of a chunked (streaming) response, blank line included.
std::string response_head_for_stream(int status, std::string_view content_type, const HeaderList& extra,
                                     bool keep_alive);

// State shared by the listener, every connection and HttpServer::stop().
struct ServerShared {
  ServerOptions options;
  Router router;
  std::atomic<bool> draining{false};

  std::mutex mu;  // guards connections and wakes stop() through `changed`
  std::condition_variable changed;
  std::unordered_map<uint64_t, std::weak_ptr<Connection>> connections;
  uint64_t next_id = 0;

  size_t connection_count() {
    std::lock_guard lock(mu);
    return connections.size();
  }
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(boost::asio::ip::tcp::socket socket, std::shared_ptr<ServerShared> shared, uint64_t id);
  ~Connection();

  // The session: read request, dispatch, write response, repeat while keep-alive.
  boost::asio::awaitable<void> run();

  // Called from any thread by HttpServer::stop() and by the listener at the connection cap.
  void post_close_if_idle();
  void post_force_close();
  // Since when (steady clock, ns) the connection has waited for a request's first byte; 0 while it
  // has a request, -1 once claimed. claim_idle(seen) takes it for closing if it is still idle since
  // `seen`; the listener then posts post_close_if_idle(), a no-op if a request came in meanwhile.
  int64_t idle_since() const { return idle_since_.load(std::memory_order_relaxed); }
  bool claim_idle(int64_t seen) { return seen > 0 && idle_since_.compare_exchange_strong(seen, -1); }

  // --- used by Exchange, always on this connection's io thread ---
  boost::asio::any_io_executor executor() { return stream_.get_executor(); }
  bool gone() const { return gone_; }
  bool keep_alive() const { return keep_alive_; }
  void add_disconnect_callback(std::function<void()> callback);
  void start_watch();
  // Writes the buffers in order with the write timeout; false when the client is gone.
  boost::asio::awaitable<bool> write(std::span<const boost::asio::const_buffer> buffers);
  // The two halves of write() for callers that avoid a coroutine frame in the common case:
  // try_write() sends what the socket takes now (kPartial: `sent` bytes went out, write_rest()
  // must send the others before anything else is written).
  enum class TryWrite { kDone, kPartial, kGone };
  TryWrite try_write(std::span<const boost::asio::const_buffer> buffers, size_t& sent);
  boost::asio::awaitable<bool> write_rest(std::span<const boost::asio::const_buffer> buffers, size_t sent);

 private:
  boost::asio::awaitable<bool> wait_for_request_bytes();
  boost::asio::awaitable<void> stop_watch();
  boost::asio::awaitable<void> send_error(int status, std::string_view message, const Request& request);
  // After an error answer to a request not read to its end (413, 431, 400): stop sending, then read
  // and discard what the client still sends, briefly. Closing with unread bytes would reset the
  // connection, and a client still writing its body would lose the answer (nginx's lingering close).
  boost::asio::awaitable<void> linger_before_close();
  void watch_read();
  void mark_gone();
  void close_socket();

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::shared_ptr<ServerShared> shared_;
  uint64_t id_;
  std::string remote_;

  bool idle_ = false;                   // waiting for the first byte of a request (shutdown may close it)
  std::atomic<int64_t> idle_since_{0};  // idle_'s start for other threads (idle_since())
  bool keep_alive_ = true;              // of the current exchange
  bool gone_ = false;                   // peer closed/reset, or force-closed
  bool watching_ = false;               // a liveness read is pending
  bool watch_stop_ = false;             // the session asked the liveness read to stop
  boost::asio::steady_timer watch_done_;
  std::vector<std::function<void()>> disconnect_callbacks_;
};

}  // namespace sgl::net::detail
