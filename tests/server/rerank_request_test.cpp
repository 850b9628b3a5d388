// /v1/rerank's pure parts: parsing and SGLang's validation messages, the Qwen3-Reranker prompt,
// the yes/no and cross-encoder scores, and the sorted, top_n-cut response.
#include "server/protocol/rerank_request.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

namespace sgl::server {
namespace {

TEST(RerankRequest, ParsesFields) {
  auto r = parse_rerank_request(
      R"({"query":"q","documents":["a","b"],"top_n":1,"return_documents":false,"instruct":"I","model":"m","x":1})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->query, "q");
  EXPECT_EQ(r->documents, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r->top_n, 1);
  EXPECT_FALSE(r->return_documents);
  EXPECT_EQ(r->instruct, "I");
  EXPECT_EQ(r->model, "m");
  auto d = parse_rerank_request(R"({"query":"q","documents":["a"]})");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->return_documents);
  EXPECT_FALSE(d->top_n);
  EXPECT_FALSE(d->instruct);
}

TEST(RerankRequest, RejectsBadInput) {
  auto msg = [](const char* body) {
    auto r = parse_rerank_request(body);
    return r.ok() ? std::string("ok") : r.error().message;
  };
  EXPECT_EQ(msg(R"({"query":"","documents":["a"]})"), "Query cannot be empty");
  EXPECT_EQ(msg(R"({"query":"  ","documents":["a"]})"), "Query cannot be empty or whitespace only");
  EXPECT_EQ(msg(R"({"query":"q","documents":[]})"), "Documents cannot be empty");
  EXPECT_EQ(msg(R"({"query":"q","documents":["a",""]})"), "Each document must be a non-empty string");
  EXPECT_EQ(msg(R"({"query":"q","documents":[" \n"]})"), "Each document cannot be empty or whitespace only");
  EXPECT_EQ(msg(R"({"query":"q","documents":["a"],"top_n":0})"), "top_n must be a positive integer");
  EXPECT_NE(msg(R"({"documents":["a"]})"), "ok");
  EXPECT_NE(msg(R"({"query":"q"})"), "ok");
  EXPECT_NE(msg(R"({"query":"q","documents":[1]})"), "ok");
  EXPECT_NE(msg(R"({"query":"q","documents":["a"],"return_documents":"yes"})"), "ok");
  EXPECT_NE(msg("not json"), "ok");
}

TEST(RerankRequest, Qwen3RerankerPrompt) {
  EXPECT_EQ(
      qwen3_reranker_prompt("Q", "D", std::nullopt),
      "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the "
      "Instruct provided. Note that the answer can only be \"yes\" or \"no\".<|im_end|>\n<|im_start|>user\n"
      "<Instruct>: Given a web search query, retrieve relevant passages that answer the query.\n"
      "<Query>: Q\n<Document>: D<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_NE(qwen3_reranker_prompt("Q", "D", std::string("Find X")).find("<Instruct>: Find X\n"),
            std::string::npos);
}

TEST(RerankRequest, Scores) {
  EXPECT_NEAR(yes_no_score(std::log(0.3), std::log(0.1)), 0.75, 1e-12);
  EXPECT_NEAR(yes_no_score(-1000.0, -1001.0), 1 / (1 + std::exp(-1.0)), 1e-12);
  EXPECT_EQ(yes_no_score(std::nullopt, -1.0), 0.0);
  EXPECT_EQ(yes_no_score(-1.0, std::nullopt), 1.0);
  EXPECT_EQ(classifier_score({2.5f}), 2.5);
  EXPECT_EQ(classifier_score({-1.0f, 3.0f}), 3.0);
}

TEST(RerankRequest, ResponseSortedAndCut) {
  RerankRequest req;
  req.documents = {"a", "b", "c"};
  std::vector<RerankResult> res = {{0.1, 0, "r0", 5, 0}, {0.9, 1, "r1", 6, 1}, {0.5, 2, "r2", 7, 0}};
  auto j = nlohmann::json::parse(rerank_response_json(res, req));
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[0]["index"], 1);
  EXPECT_EQ(j[0]["document"], "b");
  EXPECT_EQ(j[0]["score"], 0.9);
  EXPECT_EQ(j[0]["meta_info"]["id"], "r1");
  EXPECT_EQ(j[0]["meta_info"]["prompt_tokens"], 6);
  EXPECT_EQ(j[1]["index"], 2);
  EXPECT_EQ(j[2]["index"], 0);
  req.top_n = 2;
  req.return_documents = false;
  j = nlohmann::json::parse(rerank_response_json(res, req));
  ASSERT_EQ(j.size(), 2u);
  EXPECT_FALSE(j[0].contains("document"));
  EXPECT_EQ(j[1]["index"], 2);
  req.top_n = 10;
  EXPECT_EQ(nlohmann::json::parse(rerank_response_json(res, req)).size(), 3u);
}

}  // namespace
}  // namespace sgl::server
