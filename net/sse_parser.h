// Incremental Server-Sent Events parser for the client side: bytes in, one callback per event's
// data (several "data:" lines joined by '\n'). Accepts "\n", "\r\n" line ends and ":" comments.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace sgl::net {

class SseParser {
 public:
  // Return false to stop: later events in the same feed() are not delivered.
  using EventFn = std::function<bool(std::string_view data)>;

  // Feeds a piece of the body. Returns false once a callback returned false.
  bool feed(std::string_view bytes, const EventFn& on_event);
  size_t events() const { return events_; }

 private:
  bool line(std::string_view text, const EventFn& on_event);

  std::string partial_;  // an incomplete line carried over between feeds
  std::string data_;     // data of the event being assembled
  bool has_data_ = false;
  size_t events_ = 0;
};

}  // namespace sgl::net
