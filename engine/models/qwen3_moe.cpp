// Qwen3-MoE: Qwen3 attention; sparse experts (softmax router, top-k, optional renormalisation) on
// layers chosen by decoder_sparse_step and mlp_only_layers, dense MLP elsewhere.
#include "engine/models/registry.h"

namespace sgl::engine {

FamilyOptions qwen3_moe_options(const ModelConfig& c) {
  FamilyOptions o = qwen3_options(c);
  o.moe = true;
  return o;
}

}  // namespace sgl::engine
