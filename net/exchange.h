// One request/response exchange as seen by a route handler: the parsed request, a Server-Sent
// Events writer for streaming answers, and the client's liveness (so a handler waiting for
// tokens learns that its client vanished even when it has nothing to write).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "net/http_message.h"

namespace sgl::net {

namespace detail {
class Connection;
}

class Exchange {
 public:
  Exchange(std::shared_ptr<detail::Connection> conn, Request request);
  ~Exchange();
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  const Request& request() const { return request_; }
  Request& request() { return request_; }

  // The connection's io thread: everything of this exchange runs on it.
  boost::asio::any_io_executor executor() const;

  // --- Streaming (chunked transfer, text/event-stream) -------------------------------------
  // Sends the status line and headers. Called implicitly by the first write.
  boost::asio::awaitable<Status> start_stream(int status = 200, HeaderList extra_headers = {},
                                              std::string content_type = "text/event-stream");
  // Writes "data: <json>\n\n" as one chunk and flushes it. An error (kAborted) means the client is
  // gone: the handler should abort its request.
  boost::asio::awaitable<Status> write_event(std::string_view json);
  // Writes bytes as one chunk, unframed (for non-SSE streaming bodies).
  boost::asio::awaitable<Status> write_raw(std::string_view bytes);
  // Writes "data: [DONE]\n\n" and the terminating chunk. Later writes fail.
  boost::asio::awaitable<Status> finish();
  // Terminates the chunked body without [DONE] (e.g. after an error event).
  boost::asio::awaitable<Status> end_stream();
  bool streaming() const { return streaming_; }
  bool stream_ended() const { return ended_; }

  // --- Client liveness ---------------------------------------------------------------------
  // True once the peer closed or reset the connection (or the server force-closed it).
  bool disconnected() const;
  // Runs `callback` once, on this exchange's io thread, when the client disconnects (at once if it
  // already has). Starts watching the socket for EOF while the handler runs. Callbacks are
  // dropped when the exchange ends.
  void on_disconnect(std::function<void()> callback);

  // --- Access log ----------------------------------------------------------------------------
  // What the handler wants appended to this request's log line (e.g. its token counts).
  void set_log_note(std::string note) { log_note_ = std::move(note); }
  const std::string& log_note() const { return log_note_; }

 private:
  boost::asio::awaitable<Status> write_chunk(std::string_view prefix, std::string_view payload,
                                             std::string_view suffix);

  std::shared_ptr<detail::Connection> conn_;
  Request request_;
  bool streaming_ = false;
  bool ended_ = false;
  std::string log_note_;
};

}  // namespace sgl::net
