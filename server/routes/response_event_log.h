// A background Responses stream (background: true with stream: true, OpenAI's semantics): the
// generation runs on its own and appends every event here; the POST that started it and any
// GET /v1/responses/{id}?stream=true&starting_after=N follow the log from where they start, and
// a follower that disconnects stops only itself. Event i has sequence_number i.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "net/async_notifier.h"
#include "net/exchange.h"

namespace sgl::server {

class ResponseEventLog {
 public:
  void append(std::string event);  // wakes every follower
  void close();                    // the last event is in
  // Copies the events from index `from` on into `out`; true once closed.
  bool read_from(size_t from, std::vector<std::string>& out) const;
  size_t size() const;
  void subscribe(const std::shared_ptr<net::AsyncNotifier>& follower);

 private:
  void wake_locked();
  mutable std::mutex mu_;
  std::vector<std::string> events_;
  bool closed_ = false;
  std::vector<std::weak_ptr<net::AsyncNotifier>> followers_;
};

// Writes the log's events from index `from` on to `ex` as they come, then ends the stream.
// False when the client left first.
boost::asio::awaitable<bool> follow_event_log(net::Exchange& ex, std::shared_ptr<ResponseEventLog> log,
                                              size_t from);

}  // namespace sgl::server
