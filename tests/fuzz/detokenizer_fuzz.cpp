// Arbitrary id streams (byte-level pieces that split UTF-8 characters, special and added tokens,
// ids outside the vocabulary) → the streaming detokenizer of the Qwen3 tokenizer. Its promise
// (server/text/tokenizer.h): every piece it returns is final text — valid UTF-8 — and the pieces plus
// finish() concatenate to decode(all ids).
//
// Input: [flags][ids: 3 bytes each]; flags bit 0: skip_special_tokens.
#include <memory>
#include <vector>

#include "fuzz_util.h"
#include "server/text/tokenizer.h"

namespace {

std::shared_ptr<const sgl::text::Tokenizer> qwen3() {
  static const std::shared_ptr<const sgl::text::Tokenizer> tok =
      []() -> std::shared_ptr<const sgl::text::Tokenizer> {
    if (sgl::fuzz::shared_dir().empty()) {
      std::fprintf(stderr, "detokenizer_fuzz: ../shared not found, inputs are not run\n");
      return nullptr;
    }
    auto t = sgl::text::Tokenizer::from_dir(sgl::fuzz::shared_dir() + "/models/qwen3-tokenizer");
    if (!t.ok()) std::abort();
    return *t;
  }();
  return tok;
}

// Three bytes → an id, biased to the interesting ranges: the 256 byte tokens (partial UTF-8), the
// added tokens at the end of the vocabulary, just outside it, negative, anywhere.
int32_t pick_id(uint32_t v, int64_t vocab) {
  const uint32_t r = v & 0x3fffff;
  switch (v >> 22) {
    case 0:
      return static_cast<int32_t>(r % 256);
    case 1:
      return static_cast<int32_t>(vocab - 1 - r % 40);
    case 2:
      return static_cast<int32_t>(r % 2 ? vocab + r % 8 : -1 - static_cast<int32_t>(r % 8));
    default:
      return static_cast<int32_t>(r % (vocab + 16));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto tok = qwen3();
  if (!tok) return 0;
  sgl::fuzz::Input in(data, size);
  const sgl::text::DecodeOptions opt{.skip_special_tokens = (in.byte() & 1) != 0};
  std::vector<int32_t> ids;
  while (in.remaining() >= 3 && ids.size() < 512) {
    const uint32_t v = (uint32_t(in.byte()) << 16) | (uint32_t(in.byte()) << 8) | in.byte();
    ids.push_back(pick_id(v, tok->vocab_size()));
  }
  sgl::text::StreamingDetokenizer detok(tok, opt);
  std::string streamed;
  for (int32_t id : ids) {
    const std::string piece = detok.feed(id);
    FUZZ_CHECK(sgl::text::is_valid_utf8(piece), piece);
    streamed += piece;
  }
  const std::string tail = detok.finish();
  FUZZ_CHECK(sgl::text::is_valid_utf8(tail), tail);
  streamed += tail;
  const std::string whole = tok->decode(ids, opt);
  FUZZ_CHECK(streamed == whole, "streamed: " + streamed + "\n  decode:   " + whole);
  return 0;
}
