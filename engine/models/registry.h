// Architecture name (config.json architectures[0]) → the family's options. Adding a family is one
// file in engine/models/ defining its options function, plus one line in registry.cpp.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "engine/models/decoder.h"

namespace sgl::engine {

using FamilyBuilder = FamilyOptions (*)(const ModelConfig&);
// Reads a family's own config.json keys into `c` after the common ones (parse_model_config), and
// fixes up what the family names differently; `source` names the file in errors.
using FamilyConfigReader = Status (*)(const nlohmann::json& config, const std::string& source,
                                      ModelConfig& c);

struct ModelFamily {
  std::string_view architecture;
  FamilyBuilder options;
  FamilyConfigReader read_config = nullptr;  // null: the common keys say everything
};

// Error listing the supported architectures when `architecture` is not one of them.
Result<FamilyOptions> family_options(const ModelConfig& config);
std::vector<std::string_view> supported_architectures();
// The family reader of c.architecture (nothing for an unknown architecture: family_options()
// reports that).
Status read_family_config(const nlohmann::json& config, const std::string& source, ModelConfig& c);

// One per family file.
FamilyOptions qwen3_options(const ModelConfig& c);
FamilyOptions qwen3_base_options(const ModelConfig& c);
FamilyOptions qwen3_moe_options(const ModelConfig& c);
FamilyOptions qwen2_options(const ModelConfig& c);
FamilyOptions llama_options(const ModelConfig& c);
FamilyOptions qwen_options(const ModelConfig& c);
Status qwen_config(const nlohmann::json& j, const std::string& source, ModelConfig& c);
FamilyOptions qwen2_moe_options(const ModelConfig& c);
Status qwen2_moe_config(const nlohmann::json& j, const std::string& source, ModelConfig& c);
FamilyOptions gemma2_options(const ModelConfig& c);
Status gemma2_config(const nlohmann::json& j, const std::string& source, ModelConfig& c);
FamilyOptions grok_options(const ModelConfig& c);
Status grok_config(const nlohmann::json& j, const std::string& source, ModelConfig& c);
FamilyOptions bailing_moe_options(const ModelConfig& c);
Status bailing_moe_config(const nlohmann::json& j, const std::string& source, ModelConfig& c);
// *ForSequenceClassification (sequence_classification.cpp): the family's decoder with `score.weight`
// for its LM head; the reader sets num_labels.
FamilyOptions qwen3_classifier_options(const ModelConfig& c);
FamilyOptions qwen2_classifier_options(const ModelConfig& c);
FamilyOptions llama_classifier_options(const ModelConfig& c);
Status sequence_classification_config(const nlohmann::json& j, const std::string& source, ModelConfig& c);

}  // namespace sgl::engine
