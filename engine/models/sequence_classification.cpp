// *ForSequenceClassification (Qwen3, Qwen2, Llama; Qwen3-Reranker-seq-cls style checkpoints): the
// family's decoder with a score head `score.weight` [num_labels, hidden] in place of the LM head, read
// at the last token. The embedding table keeps the real vocabulary; a logits row has num_labels
// columns (ModelConfig::logits_width), and a row's pooled output is those logits.
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/models/registry.h"

namespace sgl::engine {

namespace {
FamilyOptions with_score_head(FamilyOptions o) {
  o.names.lm_head = "score.weight";
  return o;
}
}  // namespace

FamilyOptions qwen3_classifier_options(const ModelConfig& c) { return with_score_head(qwen3_options(c)); }
FamilyOptions qwen2_classifier_options(const ModelConfig& c) { return with_score_head(qwen2_options(c)); }
FamilyOptions llama_classifier_options(const ModelConfig& c) { return with_score_head(llama_options(c)); }

// HF's PretrainedConfig: `num_labels` when written, else the length of `id2label`, else 2.
Status sequence_classification_config(const nlohmann::json& j, const std::string& source, ModelConfig& c) {
  c.num_labels = 2;
  if (j.contains("num_labels") && !j["num_labels"].is_null()) {
    if (!j["num_labels"].is_number_integer() || j["num_labels"].get<int64_t>() <= 0)
      return corrupt(source + ": 'num_labels' must be a positive integer");
    c.num_labels = j["num_labels"].get<int64_t>();
  } else if (j.contains("id2label") && j["id2label"].is_object() && !j["id2label"].empty()) {
    c.num_labels = static_cast<int64_t>(j["id2label"].size());
  }
  // HF's default names, replaced by the config's id2label ({"0": "negative", ...}) where it has them.
  c.id2label.clear();
  for (int64_t i = 0; i < c.num_labels; ++i) c.id2label.push_back("LABEL_" + std::to_string(i));
  if (j.contains("id2label") && j["id2label"].is_object()) {
    for (const auto& [key, name] : j["id2label"].items()) {
      if (!name.is_string()) continue;
      char* end = nullptr;
      const long i = std::strtol(key.c_str(), &end, 10);
      if (end != key.c_str() && *end == '\0' && i >= 0 && i < c.num_labels)
        c.id2label[static_cast<size_t>(i)] = name.get<std::string>();
    }
  }
  return {};
}

}  // namespace sgl::engine
