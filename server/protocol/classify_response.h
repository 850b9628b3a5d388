// POST /v1/classify (SGLang's OpenAI-style classification, vLLM's format): each input's class
// probabilities (softmax of the score head's logits) and the most probable class's label.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sgl::server {

// {"id": "classify-<hex>", "object": "list", "created", "model", "data": [{"index", "label",
// "probs", "num_classes"}...], "usage": {"prompt_tokens", "total_tokens", "completion_tokens": 0,
// "prompt_tokens_details": null}}. `labels` names the classes (id2label); a class beyond it is
// "LABEL_<i>".
std::string classify_response_json(const std::vector<std::vector<float>>& logits,
                                   const std::vector<std::string>& labels, const std::string& model,
                                   int64_t prompt_tokens, int64_t created);

}  // namespace sgl::server
