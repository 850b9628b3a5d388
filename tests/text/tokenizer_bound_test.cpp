// Tokenizer::max_bytes_per_token: the server refuses a text longer than context × this bound
// without tokenizing it, so the bound must never be below what one token really covers, and must
// be 0 (no bound) wherever the tokenizer can drop input.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "base/shared_dir.h"
#include "server/text/tokenizer.h"

namespace sgl::text {
namespace {

const std::string kSpDir = std::string(SGL_BINARY_DIR) + "/tests/text/fixtures/sp";

nlohmann::json sp_json() {
  std::ifstream f(kSpDir + "/tokenizer.json");
  return nlohmann::json::parse(f);
}

std::shared_ptr<const Tokenizer> load(const nlohmann::json& j) {
  auto t = Tokenizer::from_json(j.dump(), "");
  EXPECT_TRUE(t.ok()) << t.error().message;
  return t.ok() ? *t : nullptr;
}

// Texts whose tokens each cover as much as the vocabulary allows: runs of one character.
void expect_bound_holds(const Tokenizer& tok) {
  const int64_t bound = tok.max_bytes_per_token();
  ASSERT_GT(bound, 0);
  for (std::string unit : {"a", " ", "=", "\n", "ab", "\xe4\xb8\xad", "\xf0\x9d\x90\x80"}) {
    std::string text;
    while (text.size() < 20000) text += unit;
    auto ids = tok.encode(text);
    ASSERT_TRUE(ids.ok());
    EXPECT_GE(int64_t(ids->size()) * bound, int64_t(text.size())) << "unit " << unit;
  }
}

TEST(TokenizerBound, ByteLevelIsTheLongestTokenTimesNfc) {
  std::string shared = sgl::find_shared_dir(SGL_SOURCE_DIR);
  if (shared.empty()) GTEST_SKIP() << "../shared not found";
  auto tok = Tokenizer::from_dir(shared + "/models/tiny-qwen3");
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  // Qwen3's longest token is 128 spaces; NFC may shrink the input up to 4:1.
  EXPECT_EQ((*tok)->max_bytes_per_token(), 128 * 4);
  expect_bound_holds(**tok);
}

// Every family's tokenizer gets a bound, so the server's byte check is on for all of them.
TEST(TokenizerBound, EveryModelDirHasABoundThatHolds) {
  std::string shared = sgl::find_shared_dir(SGL_SOURCE_DIR);
  if (shared.empty()) GTEST_SKIP() << "../shared not found";
  for (const char* name : {"tiny-llama", "tiny-gemma2", "tiny-qwen", "tiny-grok2", "tiny-bailing-moe"}) {
    auto tok = Tokenizer::from_dir(shared + "/models/" + name);
    if (!tok.ok()) continue;  // a family whose files are absent here
    SCOPED_TRACE(name);
    expect_bound_holds(**tok);
  }
}

TEST(TokenizerBound, SentencePieceIsTheLongestPiece) {
  auto tok = load(sp_json());
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->max_bytes_per_token(), 9);  // the fixture's longest piece; ' ' → ▁ only grows
  expect_bound_holds(*tok);
}

TEST(TokenizerBound, NoBoundWhereInputCanBeDropped) {
  auto strip = sp_json();
  strip["normalizer"] = {{"type", "Strip"}, {"strip_left", true}, {"strip_right", false}};
  EXPECT_EQ(load(strip)->max_bytes_per_token(), 0);

  auto erase = sp_json();
  erase["normalizer"] = {{"type", "Replace"}, {"pattern", {{"String", "x"}}}, {"content", ""}};
  EXPECT_EQ(load(erase)->max_bytes_per_token(), 0);

  auto lstrip = sp_json();
  lstrip["added_tokens"].push_back({{"id", 1000},
                                    {"content", "<m>"},
                                    {"special", true},
                                    {"lstrip", true},
                                    {"rstrip", false},
                                    {"single_word", false},
                                    {"normalized", false}});
  EXPECT_EQ(load(lstrip)->max_bytes_per_token(), 0);

  auto no_unk = sp_json();
  no_unk["model"]["byte_fallback"] = false;
  no_unk["model"]["unk_token"] = nullptr;
  EXPECT_EQ(load(no_unk)->max_bytes_per_token(), 0);
}

TEST(TokenizerBound, ShrinkingReplaceScalesTheBound) {
  auto j = sp_json();
  j["normalizer"] = {{"type", "Replace"}, {"pattern", {{"String", "abc"}}}, {"content", "z"}};
  EXPECT_EQ(load(j)->max_bytes_per_token(), 9 * 3);
}

}  // namespace
}  // namespace sgl::text
