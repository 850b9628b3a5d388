// HF tokenizer.json tokenizers (BPE: byte-level as Qwen2/3, Llama 3, GPT-2; SentencePiece-style
// with Metaspace and byte fallback as Llama 2 / Mistral), giving exactly HF's ids, and tiktoken
// tokenizers (Qwen v1's qwen.tiktoken, Grok-2's tokenizer.tok.json) giving exactly tiktoken's. One
// loaded tokenizer is shared by all reactor threads: every method is const and thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace sgl::text {

struct DecodeOptions {
  bool skip_special_tokens = true;
  // Accepted for SGLang compatibility. HF fast tokenizers (what SGLang loads for these models)
  // ignore it, and so do we: no spaces are inserted between special tokens.
  bool spaces_between_special_tokens = true;
  // The ids continue text decoded earlier (the streaming detokenizer's windows): start-of-text
  // rules such as the Strip/Metaspace decoders' removal of the leading space do not apply.
  bool continuation = false;
};

class Tokenizer {
 public:
  // A model directory: tokenizer.json, else qwen.tiktoken (Qwen v1), else tokenizer.tok.json
  // (Grok-2), with tokenizer_config.json and chat_template.jinja when present. `dir` may also name
  // a tokenizer.tok.json file itself (Grok-2's --tokenizer-path).
  static Result<std::shared_ptr<const Tokenizer>> from_dir(const std::string& dir);
  // `config_json` may be empty.
  static Result<std::shared_ptr<const Tokenizer>> from_json(std::string_view tokenizer_json,
                                                            std::string_view config_json);
  // Qwen v1's QWenTokenizer: `tiktoken` is qwen.tiktoken's text (`base64(bytes) rank` lines); the
  // specials <|endoftext|>, <|im_start|>, <|im_end|>, <|extra_0..204|> follow the ranks. Without a
  // chat template in `config_json` (which may be empty), the template is ChatML.
  static Result<std::shared_ptr<const Tokenizer>> from_tiktoken(std::string_view tiktoken,
                                                                std::string_view config_json);
  // Grok-2's tokenizer.tok.json (regular_tokens / special_tokens as {bytes, token}), with SGLang's
  // built-in Grok chat template.
  static Result<std::shared_ptr<const Tokenizer>> from_tok_json(std::string_view tok_json);
  ~Tokenizer();

  // Invalid UTF-8 is an invalid-argument error.
  Result<std::vector<int32_t>> encode(std::string_view text, bool add_special_tokens = false) const;
  // Bytes that do not form valid UTF-8 come out as U+FFFD (HF's errors="replace").
  std::string decode(std::span<const int32_t> ids, const DecodeOptions& opt = {}) const;
  // Raw bytes of one token as decode() would produce them before UTF-8 repair (for streaming).
  std::string token_bytes(int32_t id) const;
  // What decode() appends for `id` in a continuation window (opt.continuation: no start-of-text
  // rules), before UTF-8 repair: empty for skipped special tokens and ids out of range. Points
  // into the tokenizer's table, or into `scratch` for a tokenizer without one.
  std::string_view piece(int32_t id, const DecodeOptions& opt, std::string& scratch) const;

  int64_t vocab_size() const;       // one past the largest id, added tokens included
  int64_t base_vocab_size() const;  // the model's BPE vocabulary without added tokens
  // The most bytes of input text one token can cover (the longest vocabulary or added token, times
  // what normalisation may shrink), so a text of B bytes needs at least B / this many tokens. 0
  // when there is no such bound (a normalizer, split or added token that can drop input).
  int64_t max_bytes_per_token() const;
  int32_t token_to_id(std::string_view token) const;  // -1 when absent
  std::string id_to_token(int32_t id) const;          // "" when absent
  bool is_special(int32_t id) const;
  bool is_added(int32_t id) const;

  int32_t bos_token_id() const;  // -1 when none
  int32_t eos_token_id() const;  // -1 when none
  const std::string& bos_token() const;
  const std::string& eos_token() const;
  bool add_bos_token() const;
  // tokenizer_config.json `chat_template`: a string, or the "default" of a list of named
  // templates; for tiktoken tokenizers without one, the built-in template (ChatML for Qwen v1,
  // SGLang's for Grok-2); "" when the model has none.
  const std::string& chat_template() const;
  const std::string& named_chat_template(std::string_view name) const;
  // Ids that end a chat turn besides eos_token_id, for tokenizers whose model configs do not list
  // them: <|im_end|> for Qwen v1's tiktoken tokenizer, <|separator|> for Grok-2's; else empty.
  const std::vector<int32_t>& extra_stop_token_ids() const;

  struct Impl;

 protected:
  explicit Tokenizer(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

// Incremental detokenizer for one output stream: feed ids as they are generated, get back only
// text that is final — never a partial UTF-8 sequence, never bytes a later token could change.
// The concatenation of all returned pieces plus finish() equals decode(all ids).
class StreamingDetokenizer {
 public:
  StreamingDetokenizer(std::shared_ptr<const Tokenizer> tok, DecodeOptions opt = {});
  std::string feed(int32_t id);
  std::string finish();

 private:
  std::shared_ptr<const Tokenizer> tok_;
  DecodeOptions opt_;
  std::vector<int32_t> ids_;
  size_t prefix_ = 0;  // decode window start: context for the tokens after read_
  size_t read_ = 0;    // ids before this have been returned as text
};

// Bytes in `s` up to its last complete UTF-8 sequence (an incomplete tail may still be completed).
size_t complete_utf8_prefix(std::string_view s);
bool is_valid_utf8(std::string_view s);

}  // namespace sgl::text
