// Architecture name (config.json architectures[0]) → the family's options. Adding a family is one
// file in engine/models/ defining its options function, plus one line in registry.cpp.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "engine/models/decoder.h"

namespace sgl::engine {

using FamilyBuilder = FamilyOptions (*)(const ModelConfig&);

struct ModelFamily {
  std::string_view architecture;
  FamilyBuilder options;
};

// Error listing the supported architectures when `architecture` is not one of them.
Result<FamilyOptions> family_options(const ModelConfig& config);
std::vector<std::string_view> supported_architectures();

// One per family file.
FamilyOptions qwen3_options(const ModelConfig& c);
FamilyOptions qwen3_moe_options(const ModelConfig& c);
FamilyOptions qwen2_options(const ModelConfig& c);
FamilyOptions llama_options(const ModelConfig& c);

}  // namespace sgl::engine
