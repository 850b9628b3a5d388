// POST /v1/rerank: score each document against the query and answer them best first. Two ways,
// as SGLang: a sequence-classification model (a cross-encoder) scores query + document with its
// score head; a causal LM is scored Qwen3-Reranker style, P("yes") / (P("yes") + P("no")) for the
// token after SGLang's qwen3_reranker prompt. Parsing, prompts, scores and JSON are pure here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace sgl::server {

struct RerankRequest {
  std::string query;
  std::vector<std::string> documents;
  std::optional<std::string> instruct;  // Qwen3-Reranker's <Instruct> (a default when absent)
  std::optional<int64_t> top_n;         // keep the best N (all when absent or larger)
  bool return_documents = true;         // false: "document" is left out of each result
  std::string model;
};

// {"query": str, "documents": [str], "instruct"?: str, "top_n"?: int ≥ 1, "return_documents"?: bool,
//  "model"?: str}; SGLang's messages for an empty query or document (400).
Result<RerankRequest> parse_rerank_request(std::string_view body);

// SGLang's examples/chat_template/qwen3_reranker.jinja with messages [query, document].
std::string qwen3_reranker_prompt(const std::string& query, const std::string& document,
                                  const std::optional<std::string>& instruct);

// P(yes) / (P(yes) + P("no")) from the two logprobs at the position after the prompt (a missing
// one counts as probability 0; both missing → 0).
double yes_no_score(std::optional<double> yes_logprob, std::optional<double> no_logprob);

// A cross-encoder's relevance from its score-head logits: the single label's logit, or with
// several labels the last (positive) label's.
double classifier_score(const std::vector<float>& logits);

struct RerankResult {
  double score = 0;
  size_t index = 0;  // into RerankRequest::documents
  std::string rid;
  int64_t prompt_tokens = 0, cached_tokens = 0;
};
// [{"score","document"?,"index","meta_info":{"id","finish_reason":null,"prompt_tokens","cached_tokens"}}…]
// sorted by score descending (ties keep document order), cut to top_n.
std::string rerank_response_json(std::vector<RerankResult> results, const RerankRequest& req);

}  // namespace sgl::server
