// A SentencePiece-style BPE tokenizer (Llama 2 layout: Prepend/Replace normalizers, byte
// fallback, ByteFallback/Fuse/Strip decoders; built by gen_sp_tokenizer.py) against
// transformers.js on the same tokenizer.json.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "server/text/tokenizer.h"

namespace sgl::text {
namespace {

const std::string kDir = std::string(SGL_SOURCE_DIR) + "/tests/text/fixtures/sp";

TEST(TokenizerSentencePiece, MatchesReferenceWithAndWithoutBos) {
  auto tok = Tokenizer::from_dir(kDir);
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  std::ifstream f(kDir + "/reference.json");
  auto ref = nlohmann::json::parse(f);
  ASSERT_GE(ref.size(), 20u);
  for (const auto& c : ref) {
    const std::string text = c["text"];
    auto ids = (*tok)->encode(text);
    ASSERT_TRUE(ids.ok());
    EXPECT_EQ(*ids, c["ids"].get<std::vector<int32_t>>()) << text;
    auto with_bos = (*tok)->encode(text, /*add_special_tokens=*/true);
    EXPECT_EQ(*with_bos, c["ids_with_special"].get<std::vector<int32_t>>()) << text;
    EXPECT_EQ((*tok)->decode(*ids, {.skip_special_tokens = false}), c["decoded"].get<std::string>()) << text;
  }
}

TEST(TokenizerSentencePiece, ByteFallbackCharactersStreamWhole) {
  auto tok = Tokenizer::from_dir(kDir);
  ASSERT_TRUE(tok.ok());
  auto ids = (*tok)->encode("a 😀 b");  // the emoji is four <0x..> byte tokens
  ASSERT_TRUE(ids.ok());
  StreamingDetokenizer d(*tok);
  std::string out;
  for (int32_t id : *ids) {
    std::string piece = d.feed(id);
    EXPECT_EQ(complete_utf8_prefix(piece), piece.size());
    out += piece;
  }
  out += d.finish();
  EXPECT_EQ(out, "a 😀 b");
  EXPECT_EQ((*tok)->bos_token_id(), 1);
  EXPECT_TRUE((*tok)->add_bos_token());
}

}  // namespace
}  // namespace sgl::text
