// Qwen3 (dense): RMSNorm on every q and k head before RoPE; no q/k/v bias unless the config asks.
#include "engine/models/registry.h"

namespace sgl::engine {

FamilyOptions qwen3_options(const ModelConfig& c) {
  FamilyOptions o;
  o.qk_norm = true;
  o.qkv_bias = c.attention_bias;
  return o;
}

}  // namespace sgl::engine
