// Helpers shared by the fuzz targets (tests/fuzz/*_fuzz.cpp). The same sources build as libFuzzer
// executables (clang, -DSGL_FUZZ=ON) and as corpus replayers (replay_main.cpp, any compiler), so
// nothing here depends on libFuzzer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/shared_dir.h"

// A property the target promises does not hold: print it and abort, so that libFuzzer keeps the
// input as a reproducer (and a replay test fails).
#define FUZZ_CHECK(cond, detail)                                                               \
  do {                                                                                         \
    if (!(cond)) ::sgl::fuzz::fail(__FILE__, __LINE__, #cond, ::sgl::fuzz::printable(detail)); \
  } while (0)

namespace sgl::fuzz {

[[noreturn]] inline void fail(const char* file, int line, const char* cond, const std::string& detail) {
  std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n  %s\n", file, line, cond, detail.c_str());
  std::fflush(stderr);
  std::abort();
}

// `s` with control and non-ASCII bytes as \xNN, cut to a readable length, for failure messages.
inline std::string printable(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size() && out.size() < 600; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

// Structured choices read off the front of the fuzzer's bytes; an exhausted input reads as zeros
// and an empty rest, so every input is usable.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : s_(reinterpret_cast<const char*>(data), size) {}
  uint8_t byte() {
    if (s_.empty()) return 0;
    const auto b = static_cast<uint8_t>(s_[0]);
    s_.remove_prefix(1);
    return b;
  }
  uint32_t u32() {
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) v = (v << 8) | byte();
    return v;
  }
  // The bytes up to the next `sep` (dropped), or the rest when there is none.
  std::string_view until(char sep) {
    const size_t n = s_.find(sep);
    std::string_view out = s_.substr(0, n);
    s_.remove_prefix(n == std::string_view::npos ? s_.size() : n + 1);
    return out;
  }
  std::string_view rest() {
    std::string_view out = s_;
    s_ = {};
    return out;
  }
  size_t remaining() const { return s_.size(); }

 private:
  std::string_view s_;
};

// ../shared (models, tokenizers) as the tests find it; "" when absent (targets that need it then
// accept every input without running, and say so once).
inline const std::string& shared_dir() {
  static const std::string dir = sgl::find_shared_dir(SGL_SOURCE_DIR);
  return dir;
}

}  // namespace sgl::fuzz
