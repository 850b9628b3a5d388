// Internals of Tokenizer shared by its loader, encoder and decoder (not a public header).
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "server/text/pcre2_code.h"
#include "server/text/tokenizer.h"

namespace sgl::text {

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false, lstrip = false, rstrip = false, single_word = false, normalized = false;
};

struct NormalizerStep {
  enum class Kind { kNFC, kNFKC, kNFD, kNFKD, kLowercase, kReplace, kPrepend, kStripLeft, kStripRight } kind;
  std::string pattern, content;  // Replace: literal pattern → content; Prepend: content
};

struct SplitStep {
  enum class Behavior { kIsolated, kRemoved, kMergedWithPrevious, kMergedWithNext } behavior;
  std::shared_ptr<const Pcre2Code> regex;  // null: literal `literal` pattern
  std::string literal;
};

// Per-word BPE results, sharded so concurrent encoders rarely contend.
class BpeCache {
 public:
  bool get(const std::string& word, std::vector<int32_t>& out) const;
  void put(const std::string& word, const std::vector<int32_t>& ids) const;

 private:
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, std::vector<int32_t>> map;
  };
  mutable std::array<Shard, 32> shards_;
};

struct Tokenizer::Impl {
  // Vocabulary (model vocab and added tokens).
  std::vector<std::string> id_to_token;
  std::unordered_map<std::string, int32_t> token_to_id;
  int64_t base_vocab = 0;
  std::vector<AddedToken> added;
  std::array<bool, 256> added_first{};  // first bytes of added tokens: a cheap scan filter
  std::vector<uint8_t> is_special, is_added;
  // BPE.
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges;  // (left<<32|right) → (rank, merged)
  bool ignore_merges = false;
  bool byte_fallback = false;
  int32_t unk_id = -1;
  std::string continuing_subword_prefix, end_of_word_suffix;
  // Normalisation and pre-tokenisation.
  std::vector<NormalizerStep> normalizers;
  std::vector<SplitStep> splits;
  bool byte_level = false;  // ByteLevel pre-tokenizer: bytes → printable code points
  bool byte_level_prefix_space = false;
  bool metaspace = false;  // Metaspace pre-tokenizer: ' ' → ▁ (SentencePiece)
  std::string metaspace_char = "\xe2\x96\x81";
  std::string metaspace_prepend = "always";  // always | first | never
  // Decoding.
  bool decode_byte_level = false;
  bool decode_byte_fallback = false;
  std::vector<std::pair<std::string, std::string>> decode_replace;
  int decode_strip_start = 0;  // Strip decoder: leading characters removed from the whole text
  // Every id's bytes through the decoders above, computed once at load (decode_token_bytes):
  // streaming detokenization decodes a window per token, so this is its inner loop.
  std::vector<std::string> id_to_bytes;
  // Tokenizer::max_bytes_per_token (compute_max_bytes_per_token, at load).
  int64_t max_bytes_per_token = 0;
  // Post-processing with add_special_tokens.
  std::vector<int32_t> prefix_special, suffix_special;
  // tokenizer_config.json.
  std::string bos_token, eos_token;
  int32_t bos_id = -1, eos_id = -1;
  bool add_bos = false;
  std::string chat_template;
  std::unordered_map<std::string, std::string> named_templates;
  std::vector<int32_t> extra_stop_ids;  // Tokenizer::extra_stop_token_ids
  // Byte-level tables (GPT-2's bytes_to_unicode).
  std::array<std::string, 256> byte_to_char;
  std::unordered_map<uint32_t, uint8_t> char_to_byte;
  std::array<int32_t, 256> byte_token{};  // byte-level: the vocab id of each byte's symbol (-1: none)
  BpeCache cache;
  // Per-thread caches key on this, not on the address: a freed tokenizer's address is reused.
  const uint64_t instance_id = next_instance_id();
  static uint64_t next_instance_id() {
    static std::atomic<uint64_t> n{0};
    return ++n;
  }

  void init_byte_tables();
  std::vector<int32_t> bpe_word(const std::string& word) const;  // word in model symbols
  // Byte-level fast path: `piece` is raw bytes (not yet mapped to symbols).
  const std::vector<int32_t>& bpe_bytes(std::string_view piece) const;
  void merge_symbols(std::vector<int32_t>& sym) const;
  void encode_plain(std::string_view text, bool first_segment, std::vector<int32_t>& out) const;
  std::string normalize(std::string_view text) const;
  // Pieces are views into `text` (which metaspace / prefix-space handling may rewrite first).
  std::vector<std::string_view> pre_tokenize(std::string& text, bool first_segment) const;
};

// tokenizer_config.json's bos/eos tokens, add_bos_token and chat template(s) into `t` (nothing for
// an empty `config_json`).
Status read_tokenizer_config(std::string_view config_json, Tokenizer::Impl& t);
// The last step of every loader: bos/eos ids from their tokens, the id → bytes table, and the
// Tokenizer that owns `t`.
std::shared_ptr<const Tokenizer> finish_tokenizer(std::unique_ptr<Tokenizer::Impl> t);

// Bytes of one vocabulary id through the decoders (byte-level map, byte fallback, replacements);
// fills Impl::id_to_bytes at load.
std::string decode_token_bytes(const Tokenizer::Impl& t, int32_t id);

// The most input bytes one token can stand for; 0 when unbounded (see tokenizer_bound.cpp). Needs
// id_to_bytes filled.
int64_t compute_max_bytes_per_token(const Tokenizer::Impl& t);

}  // namespace sgl::text
