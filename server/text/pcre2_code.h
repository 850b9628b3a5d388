// An owned, compiled PCRE2 pattern (8-bit code units): the tokenizer's pre-tokenizer regexes and
// the grammar constraints of structured output both hold their patterns this way.
#pragma once

#include <string>

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

namespace sgl::text {

struct Pcre2Code {
  pcre2_code* code = nullptr;
  explicit Pcre2Code(pcre2_code* c) : code(c) {}
  ~Pcre2Code() { pcre2_code_free(code); }
  Pcre2Code(const Pcre2Code&) = delete;
  Pcre2Code& operator=(const Pcre2Code&) = delete;
};

// PCRE2's text for a pcre2_compile error code.
inline std::string pcre2_error_text(int error_code) {
  PCRE2_UCHAR msg[256];
  pcre2_get_error_message(error_code, msg, sizeof msg);
  return reinterpret_cast<const char*>(msg);
}

}  // namespace sgl::text
