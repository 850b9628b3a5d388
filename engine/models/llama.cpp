// Llama 2/3: plain attention; `attention_bias` adds bias to q, k, v and o; rope_scaling "llama3"
// is handled by the shared RoPE.
#include "engine/models/registry.h"

namespace sgl::engine {

FamilyOptions llama_options(const ModelConfig& c) {
  FamilyOptions o;
  o.qkv_bias = c.attention_bias;
  o.o_bias = c.attention_bias;
  return o;
}

}  // namespace sgl::engine
