// A SentencePiece-style BPE tokenizer (Llama 2 layout: Prepend/Replace normalizers, byte
// fallback, ByteFallback/Fuse/Strip decoders; built by gen_sp_tokenizer.py) against
// transformers.js on the same tokenizer.json.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "generated_tokenizer.h"
#include "server/text/tokenizer.h"

namespace sgl::text {
namespace {

const std::string kDir = testing::generated_dir("sp");

TEST(TokenizerSentencePiece, MatchesReferenceWithAndWithoutBos) {
  testing::expect_matches_reference("sp", 20);
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
