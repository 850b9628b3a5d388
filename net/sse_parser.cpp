#include "net/sse_parser.h"

namespace sgl::net {

bool SseParser::feed(std::string_view bytes, const EventFn& on_event) {
  size_t start = 0;
  while (start < bytes.size()) {
    size_t nl = bytes.find('\n', start);
    if (nl == std::string_view::npos) {
      partial_.append(bytes.substr(start));
      break;
    }
    std::string_view piece = bytes.substr(start, nl - start);
    start = nl + 1;
    bool go;
    if (partial_.empty()) {
      go = line(piece, on_event);
    } else {
      partial_.append(piece);
      std::string whole = std::move(partial_);
      partial_.clear();
      go = line(whole, on_event);
    }
    if (!go) return false;
  }
  return true;
}

bool SseParser::line(std::string_view text, const EventFn& on_event) {
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  if (text.empty()) {  // blank line: dispatch the event
    if (!has_data_) return true;
    has_data_ = false;
    ++events_;
    bool go = on_event(data_);
    data_.clear();
    return go;
  }
  if (text.front() == ':') return true;  // comment / keep-alive ping
  size_t colon = text.find(':');
  std::string_view field = text.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view{} : text.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (field == "data") {
    if (has_data_) data_ += '\n';
    data_.append(value);
    has_data_ = true;
  }
  return true;  // event:, id:, retry: are not used by the APIs we serve
}

}  // namespace sgl::net
