#include "engine/models/registry.h"

#include <fmt/format.h>

#include <array>

namespace sgl::engine {

namespace {
constexpr std::array kFamilies = {
    ModelFamily{"Qwen3ForCausalLM", qwen3_options},
    ModelFamily{"Qwen3MoeForCausalLM", qwen3_moe_options},
    ModelFamily{"Qwen2ForCausalLM", qwen2_options},
    ModelFamily{"LlamaForCausalLM", llama_options},
};
}  // namespace

std::vector<std::string_view> supported_architectures() {
  std::vector<std::string_view> out;
  for (const auto& f : kFamilies) out.push_back(f.architecture);
  return out;
}

Result<FamilyOptions> family_options(const ModelConfig& config) {
  for (const auto& f : kFamilies)
    if (f.architecture == config.architecture) return f.options(config);
  return unsupported(fmt::format("unsupported architecture '{}' (supported: {})", config.architecture,
                                 fmt::join(supported_architectures(), ", ")));
}

}  // namespace sgl::engine
