// The per-connection session coroutine. WHY hand-written response framing: the status line and
// headers are a few dozen bytes; formatting them directly and gathering them with the body into
// one write avoids Beast's serializer on the hot path (SSE events are one write each).
#include "net/detail/connection.h"

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <exception>
#include <optional>

#include "base/idle_trim.h"
#include "base/trace.h"
#include "net/detail/request_reading.h"

namespace sgl::net::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::use_awaitable;

namespace {

constexpr size_t kWatchBufferLimit = 1u << 20;  // stop buffering pipelined bytes past this

std::string response_head(int status, std::string_view content_type, const HeaderList& extra,
                          bool keep_alive) {
  std::string head;
  head.reserve(160);
  head += "HTTP/1.1 ";
  head += std::to_string(status);
  head += ' ';
  head += reason_phrase(status);
  head += "\r\nServer: sglcpp\r\n";
  if (!content_type.empty()) {
    head += "Content-Type: ";
    head += content_type;
    head += "\r\n";
  }
  for (const auto& [key, value] : extra) {
    head += key;
    head += ": ";
    head += value;
    head += "\r\n";
  }
  head += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  return head;
}

}  // namespace

std::string response_head_for_stream(int status, std::string_view content_type, const HeaderList& extra,
                                     bool keep_alive) {
  return response_head(status, content_type, extra, keep_alive) + "Transfer-Encoding: chunked\r\n\r\n";
}

Connection::Connection(asio::ip::tcp::socket socket, std::shared_ptr<ServerShared> shared, uint64_t id)
    : stream_(std::move(socket)), shared_(std::move(shared)), id_(id), watch_done_(stream_.get_executor()) {
  beast::error_code ec;
  auto ep = stream_.socket().remote_endpoint(ec);
  if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
  stream_.socket().set_option(asio::ip::tcp::no_delay(true), ec);
  stream_.socket().non_blocking(true, ec);  // for the synchronous first attempt in write()
}

Connection::~Connection() {
  {
    std::lock_guard lock(shared_->mu);
    shared_->connections.erase(id_);
  }
  shared_->changed.notify_all();
}

void Connection::post_close_if_idle() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    if (self->idle_) self->close_socket();
  });
}

void Connection::post_force_close() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    self->close_socket();
    self->mark_gone();
  });
}

void Connection::close_socket() {
  beast::error_code ec;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  stream_.socket().close(ec);
}

void Connection::mark_gone() {
  if (gone_) return;
  gone_ = true;
  auto callbacks = std::move(disconnect_callbacks_);
  disconnect_callbacks_.clear();
  for (auto& cb : callbacks) cb();
}

void Connection::add_disconnect_callback(std::function<void()> callback) {
  if (gone_) {
    callback();
    return;
  }
  disconnect_callbacks_.push_back(std::move(callback));
  start_watch();
}

void Connection::start_watch() {
  if (watching_ || gone_) return;
  watching_ = true;
  watch_stop_ = false;
  watch_done_.expires_at(asio::steady_timer::time_point::max());
  watch_read();
}

// A read that stays pending while the handler runs: EOF or an error means the client is gone.
// Bytes that arrive (a pipelined next request) are kept in the session buffer for the parser.
void Connection::watch_read() {
  stream_.socket().async_read_some(
      buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, size_t n) {
        if (!ec) {
          self->buffer_.commit(n);
          if (!self->watch_stop_ && self->buffer_.size() < kWatchBufferLimit) {
            self->watch_read();
            return;
          }
        } else if (ec != asio::error::operation_aborted || !self->stream_.socket().is_open()) {
          self->mark_gone();
        }
        self->watching_ = false;
        self->watch_done_.cancel();
      });
}

asio::awaitable<void> Connection::stop_watch() {
  if (!watching_) co_return;
  watch_stop_ = true;
  beast::error_code ec;
  stream_.socket().cancel(ec);
  co_await watch_done_.async_wait(asio::redirect_error(use_awaitable, ec));
}

// WHY the synchronous attempt first: the socket is non-blocking, and while the client keeps up the
// kernel takes a whole SSE event in one writev. Skipping the async machinery (timer arm/cancel,
// reactor round trip, even a coroutine frame) for that common case is most of the cost of an event.
Connection::TryWrite Connection::try_write(std::span<const asio::const_buffer> buffers, size_t& sent) {
  sent = 0;
  if (gone_) return TryWrite::kGone;
  beast::error_code ec;
  const size_t total = asio::buffer_size(buffers);
  size_t n = stream_.socket().write_some(buffers, ec);
  if (!ec && n == total) return TryWrite::kDone;
  if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
    mark_gone();
    return TryWrite::kGone;
  }
  if (!ec) sent = n;
  return TryWrite::kPartial;
}

asio::awaitable<bool> Connection::write_rest(std::span<const asio::const_buffer> buffers, size_t sent) {
  beast::buffers_suffix<std::span<const asio::const_buffer>> rest(buffers);
  rest.consume(sent);
  beast::error_code ec;
  stream_.expires_after(shared_->options.write_timeout);
  co_await asio::async_write(stream_, rest, asio::redirect_error(use_awaitable, ec));
  if (ec) {
    mark_gone();
    co_return false;
  }
  co_return true;
}

asio::awaitable<bool> Connection::write(std::span<const asio::const_buffer> buffers) {
  size_t sent;
  switch (try_write(buffers, sent)) {
    case TryWrite::kDone:
      co_return true;
    case TryWrite::kGone:
      co_return false;
    case TryWrite::kPartial:
      break;
  }
  co_return co_await write_rest(buffers, sent);
}

asio::awaitable<void> Connection::send_error(int status, std::string_view message, const Request& request) {
  Response r = shared_->router.error(status, message, request);
  std::string head = response_head(r.status, r.content_type, r.headers, false);
  head += "Content-Length: " + std::to_string(r.body.size()) + "\r\n\r\n";
  co_await write(buffers(asio::buffer(head), asio::buffer(r.body)));
}

// Waits for the first byte of the next request with the idle timeout; only then does the
// (shorter) read timeout for the whole request start. False: closed, timed out or draining.
asio::awaitable<bool> Connection::wait_for_request_bytes() {
  if (buffer_.size() > 0) co_return true;
  if (shared_->draining) co_return false;
  idle_ = true;
  idle_since_.store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
  beast::error_code ec;
  stream_.expires_after(shared_->options.idle_timeout);
  size_t n = co_await stream_.async_read_some(buffer_.prepare(4096), asio::redirect_error(use_awaitable, ec));
  idle_ = false;
  idle_since_.store(0, std::memory_order_relaxed);
  if (ec) co_return false;
  buffer_.commit(n);
  co_return true;
}

asio::awaitable<void> Connection::linger_before_close() {
  // Bounded in time and bytes: a client cannot hold the connection open by sending forever.
  constexpr auto kLingerTime = std::chrono::seconds(2);
  constexpr size_t kLingerBytes = size_t{64} << 20;
  if (gone_) co_return;
  beast::error_code ec;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  if (ec) co_return;
  stream_.expires_after(kLingerTime);
  std::array<char, 16384> sink;
  for (size_t drained = 0; drained < kLingerBytes;) {
    const size_t n =
        co_await stream_.async_read_some(asio::buffer(sink), asio::redirect_error(use_awaitable, ec));
    if (ec) break;  // EOF (the client read the answer and closed), timeout, reset
    drained += n;
  }
}

asio::awaitable<void> Connection::run() {
  const ServerOptions& opt = shared_->options;
  for (;;) {
    if (!co_await wait_for_request_bytes()) break;

    RequestParser parser;
    apply_limits(parser, opt);
    beast::error_code ec;
    stream_.expires_after(opt.read_timeout);
    co_await http::async_read(stream_, buffer_, parser, asio::redirect_error(use_awaitable, ec));
    if (ec) {
      std::optional<ReadFailure> failure = read_failure(parser, ec, opt);
      if (failure) {
        co_await send_error(failure->status, failure->message, failure->partial);
        co_await linger_before_close();
      }
      break;  // timeouts, resets, EOF: nothing more to say on this connection
    }
    if (std::optional<ReadFailure> failure = oversized_header(parser, opt)) {
      co_await send_error(failure->status, failure->message, failure->partial);
      co_await linger_before_close();
      break;
    }

    keep_alive_ = parser.keep_alive() && !shared_->draining;
    Exchange exchange(shared_from_this(), to_request(parser.release(), remote_));
    Router::Match match = shared_->router.match(exchange.request());
    // The exchange from its request to the end of its response (streamed or not), on its own
    // async track of the profile: a coroutine moves between the reactor's threads.
    static std::atomic<uint64_t> exchange_ids{0};
    const uint64_t trace_id = trace::recording() ? ++exchange_ids : 0;
    const std::string trace_name =
        trace_id ? exchange.request().method + " " + exchange.request().path : std::string();
    if (trace_id) trace::async_begin("http", trace_name, trace_id);
    Response response;
    bool failed = false;
    if (match.handler) {
      try {
        response = co_await (*match.handler)(exchange);
      } catch (const std::exception& e) {
        failed = true;
        response = shared_->router.error(500, std::string("Internal error: ") + e.what(), exchange.request());
      }
    } else {
      response = std::move(match.error);
    }
    disconnect_callbacks_.clear();  // they may point into the finished handler's frame
    if (shared_->draining) keep_alive_ = false;

    if (exchange.streaming()) {
      if (!exchange.stream_ended() && !gone_) (void)co_await exchange.end_stream();
    } else if (!gone_) {
      if (failed) keep_alive_ = false;
      std::string head = response_head(response.status, response.content_type, response.headers, keep_alive_);
      head += "Content-Length: " + std::to_string(response.body.size()) + "\r\n\r\n";
      co_await write(buffers(asio::buffer(head), asio::buffer(response.body)));
    }
    if (trace_id)
      trace::async_end("http", trace_name, trace_id,
                       trace::Args().add("status", exchange.streaming() ? 200 : response.status));
    co_await stop_watch();
    note_activity();  // the exchange's buffers are freed: worth a trim once all is quiet
    if (gone_ || !keep_alive_) break;
  }
  beast::error_code ec;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  stream_.socket().close(ec);
}

}  // namespace sgl::net::detail
