#include "server/parsers/normal_text.h"

#include <algorithm>
#include <cctype>

namespace sgl::server {

namespace {
bool is_ws(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
}  // namespace

void NormalTextEmitter::push(std::string_view text, std::string& out) {
  if (text.empty()) return;
  if (after_call_) {
    any_call_ = true;
    // Whitespace right after a call separates it from what follows: drop it.
    size_t i = 0;
    while (i < text.size() && is_ws(text[i])) ++i;
    text.remove_prefix(i);
    if (text.empty()) return;
    after_call_ = false;
  }
  size_t last = text.size();
  while (last > 0 && is_ws(text[last - 1])) --last;
  if (last == 0) {
    held_ws_.append(text);
    return;
  }
  out += held_ws_;
  held_ws_.clear();
  out.append(text.substr(0, last));
  held_ws_.append(text.substr(last));
}

void NormalTextEmitter::finish(std::string& out) {
  if (!any_call_ && !after_call_) out += held_ws_;
  held_ws_.clear();
}

size_t partial_tag_suffix(std::string_view text, std::string_view tag) {
  size_t max = std::min(text.size(), tag.size() - 1);
  for (size_t n = max; n > 0; --n)
    if (text.substr(text.size() - n) == tag.substr(0, n)) return n;
  return 0;
}

}  // namespace sgl::server
