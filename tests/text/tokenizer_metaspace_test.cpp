// A SentencePiece-style BPE tokenizer in the newer layout (Metaspace pre-tokenizer with
// prepend_scheme "first", byte fallback, added tokens inside the text, whitespace-run tokens; built
// by gen_metaspace_tokenizer.py) against transformers.js on the same tokenizer.json.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "generated_tokenizer.h"
#include "server/text/tokenizer.h"

namespace sgl::text {
namespace {

const std::string kDir = testing::generated_dir("metaspace");

TEST(TokenizerMetaspace, MatchesReferenceWithAndWithoutBos) {
  testing::expect_matches_reference("metaspace", 30);
}

TEST(TokenizerMetaspace, OnlyTheFirstSectionGetsTheSpacePrepended) {
  auto tok = Tokenizer::from_dir(kDir);
  ASSERT_TRUE(tok.ok());
  const int32_t inst = (*tok)->token_to_id("[INST]"), sp = (*tok)->token_to_id("\xe2\x96\x81");
  ASSERT_GE(inst, 0);
  auto first = (*tok)->encode("x");
  auto after_token = (*tok)->encode("[INST]x");
  ASSERT_TRUE(first.ok() && after_token.ok());
  EXPECT_EQ(first->front(), sp) << "the text's start gets ▁";
  EXPECT_EQ(*after_token, (std::vector<int32_t>{inst, (*tok)->token_to_id("x")}))
      << "a later section does not";
}

TEST(TokenizerMetaspace, SplitStartsAPieceAtEveryMetaspace) {
  // transformers.js ignores `split`; HF splits "▁a▁▁b" into "▁a", "▁", "▁b" (MergedWithNext), so
  // the ▁▁ token can only form without it.
  std::ifstream f(kDir + "/tokenizer.json");
  auto j = nlohmann::json::parse(f);
  auto no_split = Tokenizer::from_json(j.dump(), "");
  j["pre_tokenizer"]["split"] = true;
  auto split = Tokenizer::from_json(j.dump(), "");
  ASSERT_TRUE(no_split.ok() && split.ok());
  auto id = [&](const char* t) { return (*split)->token_to_id(t); };
  const int32_t sp = id("\xe2\x96\x81"), sp2 = id("\xe2\x96\x81\xe2\x96\x81"),
                a =
                    id("\xe2\x96\x81"
                       "a"),
                b = id("b");
  ASSERT_TRUE(sp >= 0 && sp2 >= 0 && a >= 0 && b >= 0);
  EXPECT_EQ(*(*no_split)->encode("a  b"), (std::vector<int32_t>{a, sp2, b}));
  EXPECT_EQ(*(*split)->encode("a  b"), (std::vector<int32_t>{a, sp, sp, b}));
  EXPECT_EQ((*split)->decode(*(*split)->encode("a  b")), "a  b");
}

TEST(TokenizerMetaspace, StreamingMatchesDecodeOverTheCorpus) {
  auto tok = Tokenizer::from_dir(kDir);
  ASSERT_TRUE(tok.ok());
  std::ifstream f(kDir + "/corpus.json");
  for (const std::string& text : nlohmann::json::parse(f).get<std::vector<std::string>>()) {
    for (bool skip : {true, false}) {
      auto ids = (*tok)->encode(text, true);
      StreamingDetokenizer d(*tok, {.skip_special_tokens = skip});
      std::string out;
      for (int32_t id : *ids) {
        std::string piece = d.feed(id);
        EXPECT_EQ(complete_utf8_prefix(piece), piece.size());
        out += piece;
      }
      out += d.finish();
      EXPECT_EQ(out, (*tok)->decode(*ids, {.skip_special_tokens = skip})) << text;
    }
  }
}

}  // namespace
}  // namespace sgl::text
