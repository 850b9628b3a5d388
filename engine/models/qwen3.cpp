// Qwen3 (dense): RMSNorm on every q and k head before RoPE; no q/k/v bias unless the config asks.
#include "engine/models/registry.h"

namespace sgl::engine {

FamilyOptions qwen3_options(const ModelConfig& c) {
  FamilyOptions o;
  o.qk_norm = true;
  o.qkv_bias = c.attention_bias;
  return o;
}

// Qwen3Model (a Qwen3 without its LM head, as Qwen3-Embedding checkpoints are saved): the same
// decoder; the embedding table stands in for the absent head, whose logits embedding servers
// never read.
FamilyOptions qwen3_base_options(const ModelConfig& c) {
  FamilyOptions o = qwen3_options(c);
  o.no_lm_head = true;
  return o;
}

}  // namespace sgl::engine
