// Structured output for the sampler: a grammar (JSON Schema, regex or EBNF) compiled once to a
// PCRE2 pattern, and per request a TokenConstraint that answers "may this token come next?" by
// partial matching the text generated so far plus the token's bytes.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "engine/token_constraint.h"

namespace sgl::text {
class Tokenizer;
struct Pcre2Code;  // the compiled pattern (server/text/pcre2_code.h)
}  // namespace sgl::text

namespace sgl::server {

// The bytes every token id stands for in generated text (built once per tokenizer). Special tokens
// are control, not text: a constraint never allows them (stop tokens are handled apart).
class TokenTexts {
 public:
  explicit TokenTexts(const text::Tokenizer& tok);
  TokenTexts(std::vector<std::string> bytes, std::vector<bool> is_text);  // for tests
  // Empty for ids outside the tokenizer and for special tokens.
  std::string_view bytes(int32_t id) const;
  bool is_text(int32_t id) const;

 private:
  std::vector<std::string> bytes_;
  std::vector<bool> is_text_;
};

enum class GrammarKind { kJsonSchema, kRegex, kEbnf, kStructuralTag };
const char* grammar_kind_name(GrammarKind kind);  // "json_schema" | "regex" | "ebnf" | "structural_tag"

// A grammar's pattern compiled as constraints run it: anchored at both ends (`\z` at the end:
// PCRE2 refuses ENDANCHORED with partial matching), UTF, JIT-compiled for complete and hard-partial
// matching. Null when it does not compile: `error` holds PCRE2's message, `error_offset` an offset
// into `pattern`.
std::shared_ptr<const text::Pcre2Code> compile_grammar_pattern(std::string_view pattern, std::string& error,
                                                               size_t& error_offset);

// One compiled grammar, immutable and shared by every request (and thread) that uses it.
class CompiledGrammar final : public engine::TokenConstraintFactory,
                              public std::enable_shared_from_this<CompiledGrammar> {
 public:
  CompiledGrammar(std::shared_ptr<const text::Pcre2Code> code, std::shared_ptr<const TokenTexts> texts);
  std::unique_ptr<engine::TokenConstraint> make(std::span<const int32_t> stop_ids) const override;

  // The text tests: whether `text` can still grow into a match / is a complete match.
  bool viable(std::string_view text) const;
  bool complete(std::string_view text) const;

 private:
  std::shared_ptr<const text::Pcre2Code> code_;
  std::shared_ptr<const TokenTexts> texts_;
};

// Compiles grammars for requests, keeping the most recently used ones (SGLang caches compiled
// grammars too: agents send the same tool schemas with every turn). Thread-safe.
class GrammarCompiler {
 public:
  explicit GrammarCompiler(std::shared_ptr<const TokenTexts> texts, size_t capacity = 128);
  // A grammar that does not convert or compile → invalid-argument error in SGLang's words.
  // `cache_hit`, when given, says whether it came from the cache (for /metrics).
  Result<std::shared_ptr<const CompiledGrammar>> compile(GrammarKind kind, std::string_view text,
                                                         bool* cache_hit = nullptr);

 private:
  using Key = std::string;  // kind + '\0' + text
  std::shared_ptr<const TokenTexts> texts_;
  size_t capacity_;
  std::mutex mu_;
  std::list<std::pair<Key, std::shared_ptr<const CompiledGrammar>>> lru_;  // most recent first
  std::unordered_map<Key, decltype(lru_)::iterator> index_;
};

// The PCRE2 pattern of a grammar (unanchored; the compiler anchors it).
Result<std::string> grammar_to_pattern(GrammarKind kind, std::string_view text);

}  // namespace sgl::server
