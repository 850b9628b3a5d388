#include "server/protocol/classify_response.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "server/protocol/request_id.h"

namespace sgl::server {

std::string classify_response_json(const std::vector<std::vector<float>>& logits,
                                   const std::vector<std::string>& labels, const std::string& model,
                                   int64_t prompt_tokens, int64_t created) {
  using Json = nlohmann::ordered_json;
  Json data = Json::array();
  for (size_t i = 0; i < logits.size(); ++i) {
    const auto& l = logits[i];
    // Softmax in double from the largest logit (no overflow); the argmax is the first largest.
    const auto top = std::max_element(l.begin(), l.end());
    const size_t best = static_cast<size_t>(top - l.begin());
    double sum = 0;
    for (float v : l) sum += std::exp(double(v) - double(*top));
    Json probs = Json::array();
    for (float v : l) probs.push_back(std::exp(double(v) - double(*top)) / sum);
    Json e;
    e["index"] = i;
    e["label"] = best < labels.size() ? labels[best] : "LABEL_" + std::to_string(best);
    e["probs"] = std::move(probs);
    e["num_classes"] = l.size();
    data.push_back(std::move(e));
  }
  Json j;
  j["id"] = "classify-" + new_request_id();
  j["object"] = "list";
  j["created"] = created;
  j["model"] = model;
  j["data"] = std::move(data);
  j["usage"] = {{"prompt_tokens", prompt_tokens},
                {"total_tokens", prompt_tokens},
                {"completion_tokens", 0},
                {"prompt_tokens_details", nullptr}};
  return j.dump();
}

}  // namespace sgl::server
