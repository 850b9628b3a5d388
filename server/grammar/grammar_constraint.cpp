// Token constraints over PCRE2. A candidate token is allowed when the generated text plus its bytes
// is still a prefix of some match (PCRE2_PARTIAL_HARD), and stop tokens when the text already is a
// complete match. PCRE2 rejects subjects that end inside a UTF-8 character, which byte-level
// tokens often do: such a tail is tested through its lowest and highest completions (a safe
// under-approximation — it never lets the output stray from the grammar).
#include "server/grammar/grammar_constraint.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "server/grammar/ebnf_regex.h"
#include "server/grammar/json_schema_regex.h"
#include "server/grammar/structural_tag_regex.h"
#include "server/text/pcre2_code.h"
#include "server/text/tokenizer.h"

namespace sgl::server {

using text::Pcre2Code;

namespace {

// Backtracking bounds, so that a pathological user regex costs a refused token, not a stuck
// sampler thread.
constexpr uint32_t kMatchLimit = 2'000'000;
constexpr PCRE2_SIZE kJitStackMax = 8u << 20;

// Per-thread match state: the sampler checks rows on several threads at once.
struct MatchEnv {
  pcre2_match_context* ctx = nullptr;
  pcre2_jit_stack* stack = nullptr;
  pcre2_match_data* data = nullptr;
  MatchEnv() {
    ctx = pcre2_match_context_create(nullptr);
    stack = pcre2_jit_stack_create(32u << 10, kJitStackMax, nullptr);
    data = pcre2_match_data_create(1, nullptr);  // no captures needed, only the verdict
    pcre2_set_match_limit(ctx, kMatchLimit);
    if (stack != nullptr) pcre2_jit_stack_assign(ctx, nullptr, stack);
  }
  ~MatchEnv() {
    pcre2_match_data_free(data);
    pcre2_jit_stack_free(stack);
    pcre2_match_context_free(ctx);
  }
  MatchEnv(const MatchEnv&) = delete;
  MatchEnv& operator=(const MatchEnv&) = delete;
};

MatchEnv& match_env() {
  thread_local MatchEnv env;
  return env;
}

int run_match(const Pcre2Code& code, std::string_view text, uint32_t options) {
  MatchEnv& env = match_env();
  return pcre2_match(code.code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), 0, options, env.data,
                     env.ctx);
}

// Where an unfinished UTF-8 character starts at the end of `text` (text.size() when none), or -1
// when the tail cannot start any valid character.
std::ptrdiff_t unfinished_char_start(std::string_view text) {
  const size_t n = text.size();
  for (size_t back = 1; back <= std::min<size_t>(3, n); ++back) {
    const auto b = static_cast<unsigned char>(text[n - back]);
    if ((b & 0xC0) == 0x80) continue;  // a continuation byte: look further back
    const size_t len = b < 0x80             ? 1
                       : (b & 0xE0) == 0xC0 ? 2
                       : (b & 0xF0) == 0xE0 ? 3
                       : (b & 0xF8) == 0xF0 ? 4
                                            : 0;
    if (len == 0) return -1;
    return back < len ? static_cast<std::ptrdiff_t>(n - back) : static_cast<std::ptrdiff_t>(n);
  }
  return n == 0 ? 0 : static_cast<std::ptrdiff_t>(n);  // 3+ continuation bytes: PCRE2 rejects it
}

// The lowest (or highest) valid completion of the unfinished character `head` (1–3 bytes),
// respecting UTF-8's overlong and surrogate exclusions; empty when `head` is already invalid.
std::string complete_char(std::string_view head, bool highest) {
  const auto lead = static_cast<unsigned char>(head[0]);
  const size_t len = (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : 4;
  if (lead == 0xC0 || lead == 0xC1 || lead > 0xF4) return "";
  auto second_range = [&](unsigned char& lo, unsigned char& hi) {
    lo = 0x80, hi = 0xBF;
    if (lead == 0xE0) lo = 0xA0;
    if (lead == 0xED) hi = 0x9F;
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;
  };
  std::string out(head);
  for (size_t i = 1; i < len; ++i) {
    unsigned char lo = 0x80, hi = 0xBF;
    if (i == 1) second_range(lo, hi);
    if (i < head.size()) {
      const auto b = static_cast<unsigned char>(head[i]);
      if (b < lo || b > hi) return "";
      continue;
    }
    out.push_back(static_cast<char>(highest ? hi : lo));
  }
  return out;
}

bool is_match(int rc) { return rc >= 0; }  // 0: matched, ovector too small for captures

class GrammarConstraint final : public engine::TokenConstraint {
 public:
  GrammarConstraint(std::shared_ptr<const CompiledGrammar> grammar, std::shared_ptr<const TokenTexts> texts,
                    std::span<const int32_t> stop_ids)
      : grammar_(std::move(grammar)), texts_(std::move(texts)), stop_ids_(stop_ids.begin(), stop_ids.end()) {
    complete_ = grammar_->complete(text_);
  }

  bool allows(int32_t token) override {
    if (is_stop(token)) return complete_;
    if (!texts_->is_text(token)) return false;
    const std::string_view bytes = texts_->bytes(token);
    // Tokens that share a dead first byte are all dead: in structural positions (after '{' only
    // '"' or whitespace may come) most of the vocabulary is refused by this table alone. Only
    // ASCII bytes qualify: a lone UTF-8 lead byte is judged by sample completions (viable()).
    const auto first = static_cast<unsigned char>(bytes[0]);
    if (first < 0x80) {
      int8_t& verdict = first_byte_[first];
      if (verdict < 0) {
        probe_.assign(text_);
        probe_.push_back(static_cast<char>(first));
        verdict = grammar_->viable(probe_) ? 1 : 0;
      }
      if (verdict == 0) return false;
      if (bytes.size() == 1) return true;
    }
    probe_.assign(text_);
    probe_.append(bytes);
    return grammar_->viable(probe_);
  }

  void accept(int32_t token) override {
    if (is_stop(token)) return;
    text_.append(texts_->bytes(token));
    complete_ = grammar_->complete(text_);
    first_byte_.fill(-1);
  }

  int32_t fallback_token() const override { return stop_ids_.empty() ? -1 : stop_ids_.front(); }

 private:
  bool is_stop(int32_t token) const {
    return std::find(stop_ids_.begin(), stop_ids_.end(), token) != stop_ids_.end();
  }

  std::shared_ptr<const CompiledGrammar> grammar_;
  std::shared_ptr<const TokenTexts> texts_;
  std::vector<int32_t> stop_ids_;
  std::string text_;   // generated so far
  std::string probe_;  // text_ + a candidate (reused buffer)
  bool complete_ = false;
  std::array<int8_t, 128> first_byte_ = filled(-1);  // viability of text_ + one ASCII byte (-1: unknown)

  static std::array<int8_t, 128> filled(int8_t v) {
    std::array<int8_t, 128> a;
    a.fill(v);
    return a;
  }
};

}  // namespace

TokenTexts::TokenTexts(const text::Tokenizer& tok) {
  const auto n = static_cast<size_t>(tok.vocab_size());
  bytes_.resize(n);
  is_text_.resize(n);
  const text::DecodeOptions skip_special{.skip_special_tokens = true};
  std::string scratch;
  for (size_t id = 0; id < n; ++id) {
    // What decode() writes for the id: its bytes, nothing for a special token or a gap in the vocab.
    bytes_[id] = tok.piece(static_cast<int32_t>(id), skip_special, scratch);
    is_text_[id] = !bytes_[id].empty();
  }
}

TokenTexts::TokenTexts(std::vector<std::string> bytes, std::vector<bool> is_text)
    : bytes_(std::move(bytes)), is_text_(std::move(is_text)) {
  is_text_.resize(bytes_.size());
}

std::string_view TokenTexts::bytes(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < bytes_.size() ? std::string_view(bytes_[id])
                                                            : std::string_view();
}

bool TokenTexts::is_text(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < is_text_.size() && is_text_[id];
}

const char* grammar_kind_name(GrammarKind kind) {
  switch (kind) {
    case GrammarKind::kJsonSchema:
      return "json_schema";
    case GrammarKind::kRegex:
      return "regex";
    case GrammarKind::kEbnf:
      return "ebnf";
    case GrammarKind::kStructuralTag:
      return "structural_tag";
  }
  return "grammar";
}

std::shared_ptr<const Pcre2Code> compile_grammar_pattern(std::string_view pattern, std::string& error,
                                                         size_t& error_offset) {
  // The pattern must compile on its own first: wrapped, an unbalanced one such as "a)|(?:b" would
  // compile into a different regex than the client wrote (found by tests/fuzz/grammar_fuzz.cpp).
  if (Pcre2Code::compile(pattern, PCRE2_UTF, 0, error, error_offset) == nullptr) return nullptr;
  // \z, not ENDANCHORED: PCRE2 refuses end anchoring together with partial matching.
  constexpr std::string_view kOpen = "(?:";
  const std::string anchored = std::string(kOpen) + std::string(pattern) + ")\\z";
  auto code = Pcre2Code::compile(anchored, PCRE2_UTF | PCRE2_ANCHORED,
                                 PCRE2_JIT_COMPLETE | PCRE2_JIT_PARTIAL_HARD, error, error_offset);
  if (code == nullptr) error_offset = error_offset >= kOpen.size() ? error_offset - kOpen.size() : 0;
  return code;
}

CompiledGrammar::CompiledGrammar(std::shared_ptr<const Pcre2Code> code,
                                 std::shared_ptr<const TokenTexts> texts)
    : code_(std::move(code)), texts_(std::move(texts)) {}

std::unique_ptr<engine::TokenConstraint> CompiledGrammar::make(std::span<const int32_t> stop_ids) const {
  return std::make_unique<GrammarConstraint>(shared_from_this(), texts_, stop_ids);
}

bool CompiledGrammar::viable(std::string_view text) const {
  const std::ptrdiff_t cut = unfinished_char_start(text);
  if (cut < 0) return false;
  if (static_cast<size_t>(cut) == text.size()) {
    const int rc = run_match(*code_, text, PCRE2_PARTIAL_HARD);
    return rc == PCRE2_ERROR_PARTIAL || is_match(rc);
  }
  for (bool highest : {false, true}) {
    const std::string ch = complete_char(text.substr(static_cast<size_t>(cut)), highest);
    if (ch.empty()) return false;
    std::string probe(text.substr(0, static_cast<size_t>(cut)));
    probe += ch;
    const int rc = run_match(*code_, probe, PCRE2_PARTIAL_HARD);
    if (rc == PCRE2_ERROR_PARTIAL || is_match(rc)) return true;
  }
  return false;
}

bool CompiledGrammar::complete(std::string_view text) const {
  if (unfinished_char_start(text) != static_cast<std::ptrdiff_t>(text.size())) return false;
  return is_match(run_match(*code_, text, 0));
}

Result<std::string> grammar_to_pattern(GrammarKind kind, std::string_view text) {
  switch (kind) {
    case GrammarKind::kJsonSchema:
      return json_schema_to_regex(text);
    case GrammarKind::kEbnf:
      return ebnf_to_regex(text);
    case GrammarKind::kRegex:
      return std::string(text);
    case GrammarKind::kStructuralTag:
      return structural_tag_to_regex(text);
  }
  return invalid_argument("unknown grammar kind");
}

GrammarCompiler::GrammarCompiler(std::shared_ptr<const TokenTexts> texts, size_t capacity)
    : texts_(std::move(texts)), capacity_(std::max<size_t>(1, capacity)) {}

Result<std::shared_ptr<const CompiledGrammar>> GrammarCompiler::compile(GrammarKind kind,
                                                                        std::string_view text,
                                                                        bool* cache_hit) {
  Key key = std::string(grammar_kind_name(kind)) + '\0' + std::string(text);
  if (cache_hit) *cache_hit = false;
  {
    std::lock_guard lock(mu_);
    if (auto it = index_.find(key); it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      if (cache_hit) *cache_hit = true;
      return it->second->second;
    }
  }
  auto pattern = grammar_to_pattern(kind, text);
  if (!pattern.ok())
    return invalid_argument(fmt::format("Invalid grammar request: {}", pattern.error().message));
  std::string error;
  size_t offset = 0;
  auto code = compile_grammar_pattern(*pattern, error, offset);
  if (code == nullptr) {
    return invalid_argument(
        fmt::format("Invalid grammar request: the {} does not compile: {} (pattern offset {})",
                    grammar_kind_name(kind), error, offset));
  }
  auto grammar = std::make_shared<const CompiledGrammar>(std::move(code), texts_);
  std::lock_guard lock(mu_);
  if (auto it = index_.find(key); it != index_.end()) return it->second->second;  // raced: keep one
  lru_.emplace_front(key, grammar);
  index_.emplace(std::move(key), lru_.begin());
  if (lru_.size() > capacity_) {
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
  return std::shared_ptr<const CompiledGrammar>(grammar);
}

}  // namespace sgl::server
