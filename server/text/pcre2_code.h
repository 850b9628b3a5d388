// An owned, compiled PCRE2 pattern (8-bit code units): the tokenizer's pre-tokenizer regexes and
// the grammar constraints of structured output both hold their patterns this way.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

namespace sgl::text {

struct Pcre2Code {
  pcre2_code* code = nullptr;
  bool jit = false;  // JIT-compiled; pcre2_match interprets it otherwise
  explicit Pcre2Code(pcre2_code* c) : code(c) {}
  ~Pcre2Code() { pcre2_code_free(code); }
  Pcre2Code(const Pcre2Code&) = delete;
  Pcre2Code& operator=(const Pcre2Code&) = delete;

  // `pattern` compiled with `options`, then JIT-compiled with `jit_options` (where JIT is
  // unavailable the interpreter runs it). Null when it does not compile: `error` then holds PCRE2's
  // message and `error_offset` where in the pattern it stopped.
  static std::shared_ptr<const Pcre2Code> compile(std::string_view pattern, uint32_t options,
                                                  uint32_t jit_options, std::string& error,
                                                  size_t& error_offset) {
    int err = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code* raw = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options,
                                    &err, &offset, nullptr);
    if (raw == nullptr) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof msg);
      error = reinterpret_cast<const char*>(msg);
      error_offset = offset;
      return nullptr;
    }
    auto code = std::make_shared<Pcre2Code>(raw);
    code->jit = pcre2_jit_compile(raw, jit_options) == 0;
    return code;
  }
};

}  // namespace sgl::text
