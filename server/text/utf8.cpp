#include <cstdint>
#include <string_view>

#include "server/text/tokenizer.h"

namespace sgl::text {

namespace {
// Length of the UTF-8 sequence starting with `b` (0 for a continuation or invalid lead byte).
int seq_len(unsigned char b) {
  if (b < 0x80) return 1;
  if (b >= 0xc2 && b <= 0xdf) return 2;
  if (b >= 0xe0 && b <= 0xef) return 3;
  if (b >= 0xf0 && b <= 0xf4) return 4;
  return 0;
}
}  // namespace

size_t complete_utf8_prefix(std::string_view s) {
  // Look back at most 3 bytes for the start of a sequence that runs past the end.
  const size_t n = s.size();
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    auto b = static_cast<unsigned char>(s[n - back]);
    if ((b & 0xc0) == 0x80) continue;  // continuation byte: keep looking for the lead
    int len = seq_len(b);
    return len > static_cast<int>(back) ? n - back : n;
  }
  return n;
}

bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    int len = seq_len(b);
    if (len == 0 || i + len > s.size()) return false;
    for (int k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    if (len == 3) {
      auto c = static_cast<unsigned char>(s[i + 1]);
      if ((b == 0xe0 && c < 0xa0) || (b == 0xed && c >= 0xa0)) return false;  // overlong, surrogate
    } else if (len == 4) {
      auto c = static_cast<unsigned char>(s[i + 1]);
      if ((b == 0xf0 && c < 0x90) || (b == 0xf4 && c >= 0x90)) return false;
    }
    i += static_cast<size_t>(len);
  }
  return true;
}

}  // namespace sgl::text
