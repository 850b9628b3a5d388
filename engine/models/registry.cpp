#include "engine/models/registry.h"

#include <fmt/format.h>

#include <array>

namespace sgl::engine {

namespace {
constexpr std::array kFamilies = {
    ModelFamily{"Qwen3ForCausalLM", qwen3_options},
    ModelFamily{"Qwen3Model", qwen3_base_options},
    ModelFamily{"Qwen3MoeForCausalLM", qwen3_moe_options},
    ModelFamily{"Qwen2ForCausalLM", qwen2_options},
    ModelFamily{"LlamaForCausalLM", llama_options},
    ModelFamily{"QWenLMHeadModel", qwen_options, qwen_config},
    ModelFamily{"Qwen2MoeForCausalLM", qwen2_moe_options, qwen2_moe_config},
    ModelFamily{"Gemma2ForCausalLM", gemma2_options, gemma2_config},
    ModelFamily{"Grok1ForCausalLM", grok_options, grok_config},
    ModelFamily{"GrokForCausalLM", grok_options, grok_config},
    ModelFamily{"BailingMoeForCausalLM", bailing_moe_options, bailing_moe_config},
    ModelFamily{"Qwen3ForSequenceClassification", qwen3_classifier_options, sequence_classification_config},
    ModelFamily{"Qwen2ForSequenceClassification", qwen2_classifier_options, sequence_classification_config},
    ModelFamily{"LlamaForSequenceClassification", llama_classifier_options, sequence_classification_config},
};
}  // namespace

std::vector<std::string_view> supported_architectures() {
  std::vector<std::string_view> out;
  for (const auto& f : kFamilies) out.push_back(f.architecture);
  return out;
}

Status read_family_config(const nlohmann::json& config, const std::string& source, ModelConfig& c) {
  for (const auto& f : kFamilies)
    if (f.architecture == c.architecture) return f.read_config ? f.read_config(config, source, c) : Status{};
  return {};
}

Result<FamilyOptions> family_options(const ModelConfig& config) {
  for (const auto& f : kFamilies)
    if (f.architecture == config.architecture) return f.options(config);
  return unsupported(fmt::format("unsupported architecture '{}' (supported: {})", config.architecture,
                                 fmt::join(supported_architectures(), ", ")));
}

}  // namespace sgl::engine
