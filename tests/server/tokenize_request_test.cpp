// /tokenize and /detokenize bodies and answers in SGLang's shapes.
#include "server/protocol/tokenize_request.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/protocol/api_error.h"

namespace sgl::server {
namespace {

using nlohmann::json;

TEST(TokenizeRequest, StringPrompt) {
  auto r = parse_tokenize_request(R"({"model":"m","prompt":"hi there"})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->batch);
  EXPECT_TRUE(r->add_special_tokens);
  ASSERT_EQ(r->prompts.size(), 1u);
  EXPECT_EQ(r->prompts[0], "hi there");
}

TEST(TokenizeRequest, ListPromptAndNoSpecialTokens) {
  auto r = parse_tokenize_request(R"({"prompt":["a","b"],"add_special_tokens":false})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->batch);
  EXPECT_FALSE(r->add_special_tokens);
  EXPECT_EQ(r->prompts, (std::vector<std::string>{"a", "b"}));
}

TEST(TokenizeRequest, BadBodiesAre400) {
  for (const char* body : {R"({})", R"({"prompt":5})", R"({"prompt":["a",1]})",
                           R"({"prompt":"a","add_special_tokens":"x"})", R"([1])", "not json"}) {
    auto r = parse_tokenize_request(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(http_status_of(r.error()), 400) << body;
  }
  EXPECT_NE(parse_tokenize_request("{}").error().message.find("prompt: Field required"), std::string::npos);
}

TEST(TokenizeResponse, SingleAndBatchShapes) {
  json one = json::parse(tokenize_response_json({{1, 2, 3}}, false, 4096));
  EXPECT_EQ(one, json::parse(R"({"tokens":[1,2,3],"count":3,"max_model_len":4096})"));
  json many = json::parse(tokenize_response_json({{1}, {2, 3}}, true, 8));
  EXPECT_EQ(many, json::parse(R"({"tokens":[[1],[2,3]],"count":[1,2],"max_model_len":8})"));
}

TEST(DetokenizeRequest, FlatNestedAndEmpty) {
  auto flat = parse_detokenize_request(R"({"tokens":[1,2],"skip_special_tokens":false})");
  ASSERT_TRUE(flat.ok()) << flat.error().message;
  EXPECT_FALSE(flat->batch);
  EXPECT_FALSE(flat->skip_special_tokens);
  EXPECT_EQ(flat->tokens, (std::vector<std::vector<int64_t>>{{1, 2}}));

  auto nested = parse_detokenize_request(R"({"tokens":[[1],[2,3]]})");
  ASSERT_TRUE(nested.ok()) << nested.error().message;
  EXPECT_TRUE(nested->batch);
  EXPECT_TRUE(nested->skip_special_tokens);
  EXPECT_EQ(nested->tokens.size(), 2u);

  auto empty = parse_detokenize_request(R"({"tokens":[]})");
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->batch);
  EXPECT_EQ(detokenize_response_json({""}, false), R"({"text":""})");
}

TEST(DetokenizeRequest, BadBodiesAre400) {
  for (const char* body : {R"({})", R"({"tokens":"abc"})", R"({"tokens":[1,"a"]})", R"({"tokens":[[1],2]})",
                           R"({"tokens":[1,[2]]})", R"({"tokens":[1.5]})"}) {
    auto r = parse_detokenize_request(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(http_status_of(r.error()), 400) << body;
  }
}

TEST(DetokenizeRequest, OutOfVocabularyIdsAre400) {
  DetokenizeRequest req;
  req.tokens = {{0, 99}};
  EXPECT_TRUE(check_token_ids(req, 100).ok());
  req.tokens = {{0}, {100}};
  auto st = check_token_ids(req, 100);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(http_status_of(st.error()), 400);
  EXPECT_NE(st.error().message.find("100"), std::string::npos);
  req.tokens = {{-1}};
  EXPECT_FALSE(check_token_ids(req, 100).ok());
}

TEST(DetokenizeResponse, Shapes) {
  EXPECT_EQ(json::parse(detokenize_response_json({"héllo"}, false)), json::parse(R"({"text":"héllo"})"));
  EXPECT_EQ(json::parse(detokenize_response_json({"a", "b"}, true)), json::parse(R"({"text":["a","b"]})"));
}

}  // namespace
}  // namespace sgl::server
