// Exchange: the handler's view of one request; streaming writes go through the connection.
#include "net/exchange.h"

#include <charconv>

#include "net/detail/connection.h"

namespace sgl::net {

namespace asio = boost::asio;

Exchange::Exchange(std::shared_ptr<detail::Connection> conn, Request request)
    : conn_(std::move(conn)), request_(std::move(request)) {}

Exchange::~Exchange() = default;

asio::any_io_executor Exchange::executor() const { return conn_->executor(); }

bool Exchange::disconnected() const { return conn_->gone(); }

void Exchange::on_disconnect(std::function<void()> callback) {
  conn_->add_disconnect_callback(std::move(callback));
}

asio::awaitable<Status> Exchange::start_stream(int status, HeaderList extra_headers,
                                               std::string content_type) {
  if (streaming_) co_return Status(internal_error("stream already started"));
  streaming_ = true;
  conn_->start_watch();  // a streaming handler must learn of a vanished client even between writes
  if (content_type == "text/event-stream") {
    extra_headers.emplace_back("Cache-Control", "no-cache");
    extra_headers.emplace_back("X-Accel-Buffering", "no");
  }
  std::string head =
      detail::response_head_for_stream(status, content_type, extra_headers, conn_->keep_alive());
  if (!co_await conn_->write(detail::buffers(asio::buffer(head)))) {
    ended_ = true;
    co_return Status(Error{ErrorCode::kAborted, "client disconnected"});
  }
  co_return ok_status();
}

asio::awaitable<Status> Exchange::write_chunk(std::string_view prefix, std::string_view payload,
                                              std::string_view suffix) {
  if (!streaming_) {
    Status s = co_await start_stream();
    if (!s.ok()) co_return s;
  }
  if (ended_) co_return Status(Error{ErrorCode::kAborted, "stream already ended"});
  if (conn_->gone()) co_return Status(Error{ErrorCode::kAborted, "client disconnected"});
  size_t len = prefix.size() + payload.size() + suffix.size();
  char size_line[24];
  char* end = std::to_chars(size_line, size_line + 20, len, 16).ptr;
  *end++ = '\r';
  *end++ = '\n';
  const auto chunk = detail::buffers(asio::buffer(size_line, size_t(end - size_line)), asio::buffer(prefix),
                                     asio::buffer(payload), asio::buffer(suffix), asio::buffer("\r\n", 2));
  using TryWrite = detail::Connection::TryWrite;
  size_t sent;
  switch (conn_->try_write(chunk, sent)) {
    case TryWrite::kDone:
      co_return ok_status();
    case TryWrite::kPartial:
      if (co_await conn_->write_rest(chunk, sent)) co_return ok_status();
      break;
    case TryWrite::kGone:
      break;
  }
  co_return Status(Error{ErrorCode::kAborted, "client disconnected"});
}

asio::awaitable<Status> Exchange::write_event(std::string_view json) {
  return write_chunk("data: ", json, "\n\n");
}

asio::awaitable<Status> Exchange::write_raw(std::string_view bytes) {
  if (bytes.empty()) co_return ok_status();  // an empty chunk would end the body
  co_return co_await write_chunk({}, bytes, {});
}

asio::awaitable<Status> Exchange::finish() {
  Status s = co_await write_chunk("data: [DONE]\n\n", {}, {});
  if (!s.ok()) co_return s;
  co_return co_await end_stream();
}

asio::awaitable<Status> Exchange::end_stream() {
  if (!streaming_) {
    Status s = co_await start_stream();
    if (!s.ok()) co_return s;
  }
  if (ended_) co_return ok_status();
  ended_ = true;
  if (!co_await conn_->write(detail::buffers(asio::buffer("0\r\n\r\n", 5)))) {
    co_return Status(Error{ErrorCode::kAborted, "client disconnected"});
  }
  co_return ok_status();
}

}  // namespace sgl::net
