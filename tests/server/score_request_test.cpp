// /v1/score's request parsing and score arithmetic (SGLang's score_request and
// _convert_logprobs_to_scores), without a model.
#include "server/protocol/score_request.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

namespace sgl::server {
namespace {

TEST(ScoreRequest, TextAndTokenFormsAndTheirPrompts) {
  auto t = parse_score_request(
      R"({"query":"Q","items":["a","b"],"label_token_ids":[1,2],"apply_softmax":true})", 100);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_FALSE(t->is_ids);
  EXPECT_EQ(t->num_items(), 2u);
  EXPECT_EQ(t->prompt_text(1), "Qb");
  EXPECT_TRUE(t->apply_softmax);
  auto one = parse_score_request(R"({"query":"Q","items":"a","label_token_ids":[1],"item_first":true})", 100);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->prompt_text(0), "aQ");
  auto ids = parse_score_request(R"({"query":[1,2],"items":[[3],[4,5]],"label_token_ids":[9]})", 100);
  ASSERT_TRUE(ids.ok()) << ids.error().message;
  EXPECT_TRUE(ids->is_ids);
  EXPECT_EQ(ids->prompt_ids(1), (std::vector<int32_t>{1, 2, 4, 5}));
  ids->item_first = true;
  EXPECT_EQ(ids->prompt_ids(0), (std::vector<int32_t>{3, 1, 2}));
}

TEST(ScoreRequest, BadInputIsRefusedWithSglangsMessages) {
  auto oov = parse_score_request(R"({"query":"Q","items":["a"],"label_token_ids":[100]})", 100);
  ASSERT_FALSE(oov.ok());
  EXPECT_EQ(oov.error().message, "Token ID 100 is out of vocabulary (vocab size: 100)");
  for (const char* body : {R"({"query":"Q","items":[[1]],"label_token_ids":[1]})",
                           R"({"query":[1],"items":["a"],"label_token_ids":[1]})",
                           R"({"query":"Q","items":["a",[1]],"label_token_ids":[1]})"}) {
    auto r = parse_score_request(body, 100);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_NE(r.error().message.find("Invalid combination of query/items types"), std::string::npos) << body;
  }
  EXPECT_FALSE(parse_score_request(R"({"query":"Q","label_token_ids":[1]})", 100).ok());
  EXPECT_FALSE(parse_score_request(R"({"query":"Q","items":["a"]})", 100).ok());
  EXPECT_FALSE(parse_score_request(R"({"query":"Q","items":[3.5],"label_token_ids":[1]})", 100).ok());
  EXPECT_FALSE(parse_score_request(R"([1])", 100).ok());
}

TEST(ScoreRequest, ScoresAreProbabilitiesOrALabelSoftmax) {
  const std::vector<std::optional<double>> lp = {std::log(0.5), std::log(0.25), std::nullopt};
  auto p = label_scores(lp, false);
  EXPECT_NEAR(p[0], 0.5, 1e-12);
  EXPECT_NEAR(p[1], 0.25, 1e-12);
  EXPECT_EQ(p[2], 0.0);
  auto s = label_scores(lp, true);
  EXPECT_NEAR(s[0], 2.0 / 3, 1e-12);
  EXPECT_NEAR(s[1], 1.0 / 3, 1e-12);
  EXPECT_EQ(s[2], 0.0);
  auto j = nlohmann::json::parse(score_response_json({{0.5, 0.25}}, "m", 7));
  EXPECT_EQ(j["object"], "scoring");
  EXPECT_EQ(j["model"], "m");
  EXPECT_EQ(j["usage"]["prompt_tokens"], 7);
  EXPECT_EQ(j["usage"]["completion_tokens"], 0);
  EXPECT_EQ(j["scores"][0][1], 0.25);
}

}  // namespace
}  // namespace sgl::server
