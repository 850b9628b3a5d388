// Token constraints over PCRE2: which tokens a grammar allows next, stop tokens only once the text
// is complete, unfinished UTF-8 characters, the compile cache, and whole generations through the
// engine's sampler with the real Qwen3 vocabulary ending in text the schema admits.
#include "server/grammar/grammar_constraint.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "base/shared_dir.h"
#include "engine/sampling.h"
#include "server/protocol/tool_choice_schema.h"
#include "server/text/tokenizer.h"

namespace sgl::server {
namespace {

constexpr int32_t kEos = 9;

// ids: 0 "a", 1 "b", 2 "ab", 3 "\"", 4 "é", 5 first byte of "é", 6 its second byte, 7 "{",
// 8 special (not text), 9 EOS (special), 10 "c"
std::shared_ptr<const TokenTexts> small_vocab() {
  std::vector<std::string> bytes = {"a",    "b", "ab",  "\"",   "\xc3\xa9", "\xc3",
                                    "\xa9", "{", "<s>", "</s>", "c"};
  std::vector<bool> text(bytes.size(), true);
  text[8] = text[9] = false;
  return std::make_shared<const TokenTexts>(std::move(bytes), std::move(text));
}

std::unique_ptr<engine::TokenConstraint> constraint_for(GrammarCompiler& c, GrammarKind kind,
                                                        const std::string& g) {
  auto compiled = c.compile(kind, g);
  EXPECT_TRUE(compiled.ok()) << (compiled.ok() ? "" : compiled.error().message);
  const int32_t stop[] = {kEos};
  return (*compiled)->make(stop);
}

TEST(GrammarConstraint, AllowsExactlyTheTokensThatKeepARegexMatchable) {
  GrammarCompiler c(small_vocab());
  auto k = constraint_for(c, GrammarKind::kRegex, "a+b");
  EXPECT_TRUE(k->allows(0));
  EXPECT_FALSE(k->allows(1));  // "b" first: no
  EXPECT_TRUE(k->allows(2));   // "ab" is a whole match
  EXPECT_FALSE(k->allows(10));
  EXPECT_FALSE(k->allows(8));     // special tokens are never text
  EXPECT_FALSE(k->allows(kEos));  // not complete yet
  k->accept(0);
  EXPECT_TRUE(k->allows(0));
  EXPECT_TRUE(k->allows(1));
  EXPECT_FALSE(k->allows(kEos));
  k->accept(1);  // "ab": complete, and nothing may follow
  EXPECT_TRUE(k->allows(kEos));
  EXPECT_FALSE(k->allows(0));
  EXPECT_FALSE(k->allows(1));
  EXPECT_EQ(k->fallback_token(), kEos);
}

TEST(GrammarConstraint, UnfinishedUtf8CharactersAreJudgedByTheirCompletions) {
  GrammarCompiler c(small_vocab());
  auto any_string = constraint_for(c, GrammarKind::kRegex, R"("[^"]*")");
  any_string->accept(3);
  EXPECT_TRUE(any_string->allows(5));  // the first byte of a character the class admits
  any_string->accept(5);
  EXPECT_TRUE(any_string->allows(6));
  EXPECT_FALSE(any_string->allows(0));  // "a" cannot complete a two-byte character
  any_string->accept(6);
  EXPECT_TRUE(any_string->allows(3));

  auto ascii = constraint_for(c, GrammarKind::kRegex, "[a-c]+");
  EXPECT_FALSE(ascii->allows(5));
  EXPECT_FALSE(ascii->allows(4));
  EXPECT_FALSE(ascii->allows(6));  // a lone continuation byte is never text
}

TEST(GrammarConstraint, JsonSchemaAndEbnfCompileToConstraints) {
  GrammarCompiler c(small_vocab());
  auto js = constraint_for(c, GrammarKind::kJsonSchema, R"({"type":"string","enum":["ab"]})");
  EXPECT_FALSE(js->allows(0));
  EXPECT_TRUE(js->allows(3));
  js->accept(3);
  js->accept(2);
  EXPECT_FALSE(js->allows(kEos));
  js->accept(3);
  EXPECT_TRUE(js->allows(kEos));

  auto ebnf =
      constraint_for(c, GrammarKind::kEbnf, "root ::= \"{\" inner \"c\"\ninner ::= \"a\" inner | \"b\"");
  EXPECT_TRUE(ebnf->allows(7));
  EXPECT_FALSE(ebnf->allows(0));
  ebnf->accept(7);
  EXPECT_TRUE(ebnf->allows(0));
  EXPECT_TRUE(ebnf->allows(2));
  EXPECT_FALSE(ebnf->allows(10));
}

TEST(GrammarConstraint, BadGrammarsAreInvalidArguments) {
  GrammarCompiler c(small_vocab());
  for (auto [kind, text] :
       {std::pair{GrammarKind::kRegex, "(a"},
        // Unbalanced, yet valid once wrapped in "(?:...)": found by tests/fuzz/grammar_fuzz.cpp.
        std::pair{GrammarKind::kRegex, "a)|(?:b"}, std::pair{GrammarKind::kJsonSchema, "{nope"},
        std::pair{GrammarKind::kEbnf, "start ::= \"a\""}}) {
    auto r = c.compile(kind, text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message.find("Invalid grammar request"), std::string::npos) << r.error().message;
  }
}

TEST(GrammarConstraint, CompiledGrammarsAreCachedMostRecentFirst) {
  GrammarCompiler c(small_vocab(), /*capacity=*/2);
  auto a1 = c.compile(GrammarKind::kRegex, "a");
  auto b = c.compile(GrammarKind::kRegex, "b");
  auto a2 = c.compile(GrammarKind::kRegex, "a");
  EXPECT_EQ(a1->get(), a2->get());
  auto json_a = c.compile(GrammarKind::kEbnf, "root ::= \"a\"");  // evicts "b", the least recent
  EXPECT_NE(json_a->get(), a1->get());
  EXPECT_EQ(c.compile(GrammarKind::kRegex, "a")->get(), a1->get());
  EXPECT_NE(c.compile(GrammarKind::kRegex, "b")->get(), b->get());
}

TEST(GrammarConstraint, APathologicalRegexRefusesTokensInsteadOfHanging) {
  GrammarCompiler c(small_vocab());
  auto k = constraint_for(c, GrammarKind::kRegex, "(a|aa)*(a|aa)*(a|aa)*(a|aa)*c");
  for (int i = 0; i < 60; ++i)
    if (k->allows(0)) k->accept(0);
  SUCCEED();  // bounded by the match limit: returns either way
}

TEST(GrammarConstraint, StructuralTagsLeaveTextFreeUntilATriggerThenFollowTheSchema) {
  // Text is free until "<f=": then "<f=w>", a JSON object of the schema, "</f>", and free again.
  const std::string tag = R"({"type":"structural_tag","triggers":["<f="],"structures":[
      {"begin":"<f=w>","schema":{"type":"object","properties":{"c":{"enum":["x","y"]}},"required":["c"]},"end":"</f>"}]})";
  auto pattern = grammar_to_pattern(GrammarKind::kStructuralTag, tag);
  ASSERT_TRUE(pattern.ok()) << pattern.error().message;
  GrammarCompiler c(small_vocab());
  auto g = c.compile(GrammarKind::kStructuralTag, tag);
  ASSERT_TRUE(g.ok()) << g.error().message;
  for (std::string_view ok :
       {"", "hello", "call <f=w>{\"c\": \"x\"}</f> done", "<f=w>{\"c\":\"y\"}</f><f=w>{\"c\":\"x\"}</f>"})
    EXPECT_TRUE((*g)->complete(ok)) << ok;
  for (std::string_view viable : {"text <f", "text <f=w>{\"c\": \"", "<f=w>{\"c\": \"x\"}</"})
    EXPECT_TRUE((*g)->viable(viable)) << viable;
  for (std::string_view bad : {"text <f=q", "<f=w>{\"c\": \"z", "<f=w>{\"c\": \"x\"}x"})
    EXPECT_FALSE((*g)->viable(bad)) << bad;
  EXPECT_FALSE((*g)->complete("text <f=w>{\"c\": \"x\"}"));
  // /generate passes the tag as a JSON string; a begin no trigger opens is refused.
  EXPECT_TRUE(c.compile(GrammarKind::kStructuralTag, nlohmann::json(tag).dump()).ok());
  auto bad = c.compile(GrammarKind::kStructuralTag,
                       R"({"triggers":["<g="],"structures":[{"begin":"<f=w>","end":"</f>"}]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("starts with no trigger"), std::string::npos) << bad.error().message;
}

TEST(GrammarConstraint, StrictToolsConstrainTheArgumentsOfEveryCallTheModelOpens) {
  // What tool_choice "auto" with a strict tool decodes under (qwen25 / hermes framing).
  auto tag = strict_tool_structural_tag(
      R"([{"type":"function","function":{"name":"f","strict":true,"parameters":{"type":"object",
          "properties":{"x":{"type":"integer"}},"required":["x"],"additionalProperties":false}}},
          {"type":"function","function":{"name":"g"}}])",
      "qwen25");
  ASSERT_TRUE(tag.has_value());
  GrammarCompiler c(small_vocab());
  auto g = c.compile(GrammarKind::kStructuralTag, *tag);
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_TRUE((*g)->complete("No call needed."));
  EXPECT_TRUE((*g)->complete("<tool_call>\n{\"name\":\"f\", \"arguments\":{\"x\": 3}}\n</tool_call>"));
  EXPECT_TRUE((*g)->complete("<tool_call>\n{\"name\":\"g\", \"arguments\":[1, \"any\"]}\n</tool_call>"));
  EXPECT_FALSE((*g)->viable("<tool_call>\n{\"name\":\"f\", \"arguments\":{\"x\": \"three"));
  EXPECT_FALSE((*g)->viable("<tool_call>\n{\"name\":\"h\""));
  EXPECT_FALSE(strict_tool_structural_tag(R"([{"function":{"name":"g"}}])", "qwen25").has_value());
  EXPECT_FALSE(strict_tool_structural_tag(R"([{"function":{"name":"f","strict":true}}])", "qwen3_coder"));
}

// Whole generations with the real vocabulary: random logits, the engine's sampler and a schema.
class GrammarGeneration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string shared = find_shared_dir(SGL_SOURCE_DIR);
    if (shared.empty()) return;
    auto tok = text::Tokenizer::from_dir(shared + "/models/qwen3-tokenizer");
    ASSERT_TRUE(tok.ok());
    tok_ = *tok;
    texts_ = std::make_shared<const TokenTexts>(*tok_);
  }
  void SetUp() override {
    if (!tok_) GTEST_SKIP() << "../shared (models/qwen3-tokenizer) absent";
  }

  // Samples up to `max_tokens` under `kind`/`grammar`; returns the text before the stop token.
  std::string generate(GrammarKind kind, const std::string& grammar, float temperature, uint64_t seed,
                       int max_tokens, bool* stopped) {
    GrammarCompiler c(texts_);
    auto g = c.compile(kind, grammar);
    EXPECT_TRUE(g.ok()) << (g.ok() ? "" : g.error().message);
    const int32_t eos = tok_->token_to_id("<|im_end|>");
    const int32_t stop[] = {eos};
    auto k = (*g)->make(stop);
    const int64_t vocab = tok_->vocab_size();
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> noise(0.0f, 4.0f);
    engine::Sampler sampler(seed);
    engine::SamplingParams p;
    p.temperature = temperature;
    std::vector<int32_t> ids;
    std::vector<float> logits(static_cast<size_t>(vocab));
    *stopped = false;
    for (int step = 0; step < max_tokens; ++step) {
      for (float& l : logits) l = noise(rng);
      engine::RowSampling rs;
      rs.params = &p;
      rs.step = step;
      rs.constraint = k.get();
      auto out = sampler.sample(logits.data(), vocab, std::span(&rs, 1));
      if (out[0].token == eos) {
        *stopped = true;
        break;
      }
      ids.push_back(out[0].token);
    }
    return tok_->decode(ids);
  }

  static inline std::shared_ptr<const text::Tokenizer> tok_;
  static inline std::shared_ptr<const TokenTexts> texts_;
};

TEST_F(GrammarGeneration, RandomLogitsStillProduceTextTheRegexMatches) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    bool stopped = false;
    const std::string out =
        generate(GrammarKind::kRegex, R"((yes|no|maybe), [0-9]{2,4}!)", 1.0f, seed, 40, &stopped);
    EXPECT_TRUE(stopped) << out;
    EXPECT_TRUE(out.starts_with("yes, ") || out.starts_with("no, ") || out.starts_with("maybe, ")) << out;
    EXPECT_EQ(out.back(), '!') << out;
  }
}

TEST_F(GrammarGeneration, RandomLogitsStillProduceJsonTheSchemaAdmits) {
  const std::string schema = R"({"type":"object","properties":{
      "name":{"type":"string","maxLength":12},
      "age":{"type":"integer"},
      "mood":{"enum":["happy","sad"]},
      "tags":{"type":"array","items":{"type":"boolean"},"maxItems":3}},
      "required":["name","age","mood","tags"]})";
  for (float temperature : {0.0f, 1.0f}) {
    bool stopped = false;
    const std::string out = generate(GrammarKind::kJsonSchema, schema, temperature, 7, 400, &stopped);
    ASSERT_TRUE(stopped) << out;
    const auto j = nlohmann::json::parse(out, nullptr, false);
    ASSERT_TRUE(j.is_object()) << out;
    EXPECT_TRUE(j["name"].is_string());
    EXPECT_LE(j["name"].get<std::string>().size(), 12u * 4);
    EXPECT_TRUE(j["age"].is_number_integer());
    EXPECT_TRUE(j["mood"] == "happy" || j["mood"] == "sad");
    ASSERT_TRUE(j["tags"].is_array());
    EXPECT_LE(j["tags"].size(), 3u);
    for (const auto& t : j["tags"]) EXPECT_TRUE(t.is_boolean());
  }
}

}  // namespace
}  // namespace sgl::server
