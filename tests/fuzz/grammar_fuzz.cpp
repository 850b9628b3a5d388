// Structured output (server/grammar/): arbitrary JSON Schema, regex, EBNF and structural-tag text →
// the converter and PCRE2 compiler, as GrammarCompiler runs them for a request, then a walk of up to
// 24 tokens of a small vocabulary under the resulting constraint. Checked:
//  - conversion and compilation end in a client error or a grammar, never a crash or a hang;
//  - a regex that compiles inside the compiler's anchoring wrapper compiles on its own (a pattern
//    such as "a)|(?:b" must not escape the wrapper and unanchor the grammar);
//  - the constraint's answers equal the grammar's (its first-byte shortcut is exact), and a stop token
//    is allowed exactly when the text is a complete match;
//  - a complete match of a JSON Schema grammar is JSON.
//
// Input: [kind][walk: 8 bytes][grammar text].
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <vector>

#include "fuzz_util.h"
#include "server/grammar/grammar_constraint.h"
#include "server/text/pcre2_code.h"

namespace {

using sgl::server::GrammarKind;

// JSON punctuation, literals, digits, letters, whitespace (raw control characters included), a
// 2-byte character whole and split, and tag text for structural tags.
const std::vector<std::string>& vocab() {
  static const std::vector<std::string> v = {"{",
                                             "}",
                                             "[",
                                             "]",
                                             "\"",
                                             ":",
                                             ",",
                                             " ",
                                             "\n",
                                             "\t",
                                             "0",
                                             "1",
                                             "7",
                                             "-",
                                             ".",
                                             "e",
                                             "+",
                                             "a",
                                             "b",
                                             "z",
                                             "ab",
                                             "true",
                                             "false",
                                             "null",
                                             "\"a\"",
                                             "\\",
                                             "\\n",
                                             "u",
                                             "\\u00e9",
                                             "é",
                                             "\xc3",
                                             "\xa9",
                                             "\x01",
                                             "<",
                                             ">",
                                             "/",
                                             "tool_call",
                                             "<tool_call>",
                                             "</tool_call>",
                                             "{\"name\": \"",
                                             "\"arguments\"",
                                             "name",
                                             "x",
                                             "_",
                                             "#",
                                             "(",
                                             ")"};
  return v;
}

std::shared_ptr<const sgl::server::TokenTexts> texts() {
  static const auto t = [] {
    std::vector<std::string> bytes = vocab();
    bytes.insert(bytes.begin(), "");  // id 0: a special token, never text
    std::vector<bool> is_text(bytes.size(), true);
    is_text[0] = false;
    return std::make_shared<const sgl::server::TokenTexts>(std::move(bytes), std::move(is_text));
  }();
  return t;
}

// JSON by its grammar: nlohmann refuses numbers past double's range (7.7e701) that the JSON grammar
// (and Python's json) accept, so exponents are shrunk before its check (digits inside strings may
// change too, which keeps them strings).
bool json_syntax_ok(const std::string& text) {
  static const std::regex exponent("([eE][+-]?)[0-9]+");
  return nlohmann::json::accept(std::regex_replace(text, exponent, "$010"));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sgl::fuzz::Input in(data, size);
  const auto kind = static_cast<GrammarKind>(in.byte() % 4);
  uint8_t walk[8];
  for (auto& b : walk) b = in.byte();
  const std::string_view text = in.rest();

  auto pattern = sgl::server::grammar_to_pattern(kind, text);
  if (!pattern.ok()) {
    FUZZ_CHECK(pattern.error().code == sgl::ErrorCode::kInvalidArgument ||
                   pattern.error().code == sgl::ErrorCode::kUnsupported,
               pattern.error().message);
    return 0;
  }
  std::string error;
  size_t offset = 0;
  auto code = sgl::server::compile_grammar_pattern(*pattern, error, offset);
  if (!code) return 0;  // GrammarCompiler answers 400 with PCRE2's message
  if (kind == GrammarKind::kRegex) {
    std::string alone_error;
    size_t alone_offset = 0;
    auto alone = sgl::text::Pcre2Code::compile(*pattern, PCRE2_UTF, 0, alone_error, alone_offset);
    FUZZ_CHECK(alone != nullptr, "the wrapper compiles a regex that does not compile alone: " + *pattern);
  }

  auto grammar = std::make_shared<const sgl::server::CompiledGrammar>(code, texts());
  const int32_t stop = static_cast<int32_t>(vocab().size()) + 1;
  const int32_t stops[] = {stop};
  auto constraint = grammar->make(stops);
  std::string out;
  for (int step = 0; step < 24; ++step) {
    const bool complete = grammar->complete(out);
    FUZZ_CHECK(constraint->allows(stop) == complete, out);
    if (complete && kind == GrammarKind::kJsonSchema)
      FUZZ_CHECK(json_syntax_ok(out), "a complete match is not JSON: " + out + "\n  pattern: " + *pattern);
    std::vector<int32_t> allowed;
    for (int32_t id = 0; id < stop; ++id) {
      const bool yes = constraint->allows(id);
      const bool expected = id > 0 && grammar->viable(out + vocab()[id - 1]);
      FUZZ_CHECK(yes == expected, "token " + std::to_string(id) + " after: " + out);
      if (yes) allowed.push_back(id);
    }
    const uint8_t b = walk[step % 8] ^ static_cast<uint8_t>(step * 37);
    if (allowed.empty() || (complete && b % 4 == 0)) break;
    const int32_t pick = allowed[b % allowed.size()];
    constraint->accept(pick);
    out += vocab()[pick - 1];
  }
  return 0;
}
