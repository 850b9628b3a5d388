// Qwen2 / Qwen2.5: bias on the q, k and v projections (always, whatever the config says), none on o.
#include "engine/models/registry.h"

namespace sgl::engine {

FamilyOptions qwen2_options(const ModelConfig&) {
  FamilyOptions o;
  o.qkv_bias = true;
  return o;
}

}  // namespace sgl::engine
