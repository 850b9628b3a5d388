// Added tokens are cut out of the text before normalisation and BPE, honouring their flags as HF
// tokenizers does: lstrip/rstrip swallow the whitespace beside the token, single_word only matches
// between non-word characters. The sections between tokens encode exactly as standalone texts, so
// each expectation is written as the concatenation of independent encodes.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "server/text/tokenizer.h"

namespace sgl::text {
namespace {

using Ids = std::vector<int32_t>;

std::string sp_json() {
  std::ifstream f(std::string(SGL_BINARY_DIR) + "/tests/text/fixtures/sp/tokenizer.json");
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

class AddedTokens : public ::testing::Test {
 protected:
  void SetUp() override {
    auto j = nlohmann::json::parse(sp_json());
    int32_t next = 0;
    for (const auto& [tok, id] : j["model"]["vocab"].items()) next = std::max(next, id.get<int32_t>() + 1);
    auto add = [&](const std::string& content, bool special, bool lstrip, bool rstrip, bool single_word) {
      j["added_tokens"].push_back({{"id", next},
                                   {"content", content},
                                   {"special", special},
                                   {"lstrip", lstrip},
                                   {"rstrip", rstrip},
                                   {"single_word", single_word},
                                   {"normalized", false}});
      return next++;
    };
    plain_ = add("<x>", true, false, false, false);
    lstrip_ = add("<l>", true, true, false, false);
    rstrip_ = add("<r>", true, false, true, false);
    word_ = add("<w>", true, false, false, true);
    user_ = add("<user>", false, false, false, false);  // an added but not special token
    longer_ = add("<x><x>", true, false, false, false);
    auto t = Tokenizer::from_json(j.dump(), R"({"bos_token": "<s>", "add_bos_token": true})");
    ASSERT_TRUE(t.ok()) << t.error().message;
    tok_ = *t;
    auto b = Tokenizer::from_json(sp_json(), "");
    ASSERT_TRUE(b.ok());
    base_ = *b;
  }

  Ids enc(const std::string& s) const { return *tok_->encode(s); }
  static Ids cat(std::initializer_list<Ids> parts) {
    Ids out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
  }

  std::shared_ptr<const Tokenizer> tok_, base_;
  int32_t plain_ = 0, lstrip_ = 0, rstrip_ = 0, word_ = 0, user_ = 0, longer_ = 0;
};

TEST_F(AddedTokens, PlainTokenSplitsTheTextAndKeepsSurroundingSpaces) {
  EXPECT_EQ(enc("the  <x> the"), cat({enc("the  "), {plain_}, enc(" the")}));
  EXPECT_EQ(enc("<x>"), Ids{plain_});
  EXPECT_EQ(enc("a<x>b"), cat({enc("a"), {plain_}, enc("b")}));
  // Without the added token the same text is ordinary characters.
  const Ids plain_text = *base_->encode("a<x>b");
  EXPECT_EQ(std::count(plain_text.begin(), plain_text.end(), plain_), 0);
  EXPECT_GT(plain_text.size(), 3u);
}

TEST_F(AddedTokens, LongestTokenWinsAtOnePosition) {
  EXPECT_EQ(enc("a<x><x>b"), cat({enc("a"), {longer_}, enc("b")}));
  EXPECT_EQ(enc("<x><x><x>"), (Ids{longer_, plain_}));
}

TEST_F(AddedTokens, LstripSwallowsWhitespaceBeforeTheToken) {
  ASSERT_NE(enc("the"), enc("the  "));  // so the expectation below can fail
  EXPECT_EQ(enc("the  <l> the"), cat({enc("the"), {lstrip_}, enc(" the")}));
  EXPECT_EQ(enc("the \n\t<l>"), cat({enc("the"), {lstrip_}}));
  EXPECT_EQ(enc("   <l>the"), cat({{lstrip_}, enc("the")}));
}

TEST_F(AddedTokens, RstripSwallowsWhitespaceAfterTheToken) {
  ASSERT_NE(enc("the"), enc("  the"));
  EXPECT_EQ(enc("the <r>  the"), cat({enc("the "), {rstrip_}, enc("the")}));
  EXPECT_EQ(enc("<r>   "), Ids{rstrip_});
}

TEST_F(AddedTokens, SingleWordMatchesOnlyBetweenNonWordCharacters) {
  EXPECT_EQ(enc("a <w> b"), cat({enc("a "), {word_}, enc(" b")}));
  EXPECT_EQ(enc("<w>"), Ids{word_});
  EXPECT_EQ(enc("(<w>)"), cat({enc("("), {word_}, enc(")")}));
  // Glued to a word on either side, it is not the token: the text goes through BPE as is.
  for (std::string s : {"a<w>b", "a<w> b", "a <w>b", "x_<w>", "<w>9"}) {
    EXPECT_EQ(enc(s), *base_->encode(s)) << s;
  }
}

TEST_F(AddedTokens, AddSpecialTokensPrependsBosOnce) {
  EXPECT_EQ(*tok_->encode("the<x>", true), cat({{1}, enc("the"), {plain_}}));
  EXPECT_EQ(*tok_->encode("", true), Ids{1});
}

TEST_F(AddedTokens, SkipSpecialTokensDropsOnlySpecialOnes) {
  // This layout (Llama 2's Prepend normalizer) prepends ▁ to every section between added tokens,
  // so the decode has a space after each of them, as HF's has; the Strip decoder only removes
  // the one at the very start of the text.
  Ids ids = enc("<x>the <user> hello<l>");
  EXPECT_EQ(tok_->decode(ids, {.skip_special_tokens = false}), "<x> the <user>  hello<l>");
  EXPECT_EQ(tok_->decode(*tok_->encode("the<x>"), {.skip_special_tokens = false}), "the<x>");
  // The special <x> and <l> go; the added-but-not-special <user> stays.
  const std::string skipped = tok_->decode(ids, {.skip_special_tokens = true});
  EXPECT_EQ(skipped.find("<x>"), std::string::npos) << skipped;
  EXPECT_EQ(skipped.find("<l>"), std::string::npos) << skipped;
  EXPECT_NE(skipped.find("<user>"), std::string::npos) << skipped;
  EXPECT_TRUE(tok_->is_special(plain_));
  EXPECT_FALSE(tok_->is_special(user_));
  EXPECT_TRUE(tok_->is_added(user_));
  EXPECT_EQ(tok_->token_to_id("<user>"), user_);
  EXPECT_EQ(tok_->id_to_token(word_), "<w>");
  EXPECT_EQ(tok_->vocab_size(), longer_ + 1);
}

}  // namespace
}  // namespace sgl::text
