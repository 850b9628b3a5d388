// POST /v1/score (SGLang's decoder-only scoring): the probability of each label token right after
// query + item, for every item. Parsing and the score arithmetic live here, pure, so they are
// tested without a model; the route runs one greedy token per item for the logprobs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace sgl::server {

struct ScoreRequest {
  // Text (query and items strings) or token ids (query and items lists): never mixed.
  bool is_ids = false;
  std::string query_text;
  std::vector<std::string> item_texts;
  std::vector<int32_t> query_ids;
  std::vector<std::vector<int32_t>> item_ids;
  std::vector<int32_t> label_token_ids;
  bool apply_softmax = false;
  bool item_first = false;
  std::string model;

  size_t num_items() const { return is_ids ? item_ids.size() : item_texts.size(); }
  // The i-th prompt: item + query with item_first, else query + item.
  std::string prompt_text(size_t i) const;
  std::vector<int32_t> prompt_ids(size_t i) const;
};

// {"query": str | [int], "items": str | [str] | [[int]], "label_token_ids": [int],
//  "apply_softmax"?: bool, "item_first"?: bool, "model"?: str}. Ids are checked against the
// model's vocabulary (SGLang's "Token ID … is out of vocabulary (vocab size: …)").
Result<ScoreRequest> parse_score_request(std::string_view body, int64_t vocab_size);

// One item's scores in label order from the label logprobs at the position after the prompt
// (nullopt where a label has none): softmax over the labels with apply_softmax, else exp(logprob)
// (0 for a missing one), as SGLang's _convert_logprobs_to_scores.
std::vector<double> label_scores(const std::vector<std::optional<double>>& logprobs, bool apply_softmax);

// {"scores": [[…]…], "model": …, "usage": {"prompt_tokens", "completion_tokens": 0, "total_tokens"},
//  "object": "scoring"}.
std::string score_response_json(const std::vector<std::vector<double>>& scores, const std::string& model,
                                int64_t prompt_tokens);

}  // namespace sgl::server
