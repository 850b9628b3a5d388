// Arbitrary text → the Qwen3 tokenizer (../shared/models/qwen3-tokenizer) and back. What the
// tokenizer guarantees, and is checked here:
//  - encode() refuses exactly the texts that are not UTF-8;
//  - every id lies in the vocabulary;
//  - its normalizer is NFC, and the added tokens split the text first without normalization, so for a
//    text without added-token text decode(encode(x)) == NFC(x), and encoding that again gives the
//    same ids (BPE of an NFC text is stable);
//  - the byte bound the server uses to refuse huge prompts before tokenizing holds:
//    ids × max_bytes_per_token() >= bytes.
//
// Input: [flags][text]; flags bit 0: add_special_tokens.
#include <utf8proc.h>

#include <memory>
#include <vector>

#include "fuzz_util.h"
#include "server/text/tokenizer.h"

namespace {

struct Loaded {
  std::shared_ptr<const sgl::text::Tokenizer> tok;
  std::vector<std::string> added;  // the added tokens' text
};

const Loaded& loaded() {
  static const Loaded l = [] {
    Loaded l;
    if (sgl::fuzz::shared_dir().empty()) {
      std::fprintf(stderr, "tokenizer_fuzz: ../shared not found, inputs are not run\n");
      return l;
    }
    auto tok = sgl::text::Tokenizer::from_dir(sgl::fuzz::shared_dir() + "/models/qwen3-tokenizer");
    if (!tok.ok()) {
      std::fprintf(stderr, "tokenizer_fuzz: %s\n", tok.error().message.c_str());
      std::abort();
    }
    l.tok = *tok;
    for (int32_t id = 0; id < l.tok->vocab_size(); ++id)
      if (l.tok->is_added(id)) l.added.push_back(l.tok->id_to_token(id));
    return l;
  }();
  return l;
}

std::string nfc(std::string_view s) {
  utf8proc_uint8_t* out = nullptr;
  const auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                              static_cast<utf8proc_ssize_t>(s.size()), &out,
                              static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  std::string r =
      n >= 0 ? std::string(reinterpret_cast<const char*>(out), static_cast<size_t>(n)) : std::string();
  std::free(out);
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Loaded& l = loaded();
  if (!l.tok) return 0;
  const sgl::text::Tokenizer& tok = *l.tok;
  sgl::fuzz::Input in(data, size);
  const bool add_special = in.byte() & 1;
  const std::string_view text = in.rest();

  auto ids = tok.encode(text, add_special);
  FUZZ_CHECK(ids.ok() == sgl::text::is_valid_utf8(text), text);
  if (!ids.ok()) return 0;
  for (int32_t id : *ids) FUZZ_CHECK(id >= 0 && id < tok.vocab_size(), std::to_string(id));
  if (const int64_t per_token = tok.max_bytes_per_token(); per_token > 0)
    FUZZ_CHECK(static_cast<int64_t>(ids->size()) * per_token >= static_cast<int64_t>(text.size()),
               std::to_string(ids->size()) + " ids for " + std::to_string(text.size()) + " bytes");

  const std::string decoded = tok.decode(*ids, {.skip_special_tokens = false});
  FUZZ_CHECK(sgl::text::is_valid_utf8(decoded), decoded);
  bool has_added = false;
  for (const auto& a : l.added) has_added = has_added || text.find(a) != std::string_view::npos;
  if (!has_added && !add_special) {
    FUZZ_CHECK(decoded == nfc(text), "decoded: " + decoded + "\n  expected: " + nfc(text));
    auto again = tok.encode(decoded);
    FUZZ_CHECK(again.ok() && *again == *ids, decoded);
  }
  // Skipping special tokens drops exactly their text.
  std::vector<int32_t> plain;
  for (int32_t id : *ids)
    if (!tok.is_special(id)) plain.push_back(id);
  FUZZ_CHECK(tok.decode(*ids) == tok.decode(plain, {.skip_special_tokens = false}), text);
  return 0;
}
