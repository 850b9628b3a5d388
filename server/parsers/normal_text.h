// Text outside tool calls, as the parsers emit it: whitespace that only separates calls (before
// the first, between, after the last) is dropped, while a plain answer with no call keeps every
// byte. Trailing whitespace is therefore held until it is known which case applies.
#pragma once

#include <string>
#include <string_view>

namespace sgl::server {

class NormalTextEmitter {
 public:
  // Appends to `out` what of `text` is final.
  void push(std::string_view text, std::string& out);
  // A call starts: pending whitespace separated text from the call and is dropped.
  void call_started() {
    held_ws_.clear();
    after_call_ = true;
  }
  void finish(std::string& out);

 private:
  std::string held_ws_;
  bool after_call_ = false;  // the last thing emitted was a call
  bool any_call_ = false;
};

// Length of the longest suffix of `text` that is a proper prefix of `tag` (text that could still
// become the tag when more arrives).
size_t partial_tag_suffix(std::string_view text, std::string_view tag);

}  // namespace sgl::server
