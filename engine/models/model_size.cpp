#include "engine/models/model_size.h"

namespace sgl::engine {

namespace {

// Per-layer element counts shared by both figures.
struct LayerSizes {
  int64_t attn_gemm = 0;  // q, k, v, o projections
  int64_t mlp_gemm = 0;   // dense MLP or all experts
  int64_t router = 0;     // E × H (MoE layers only)
  int64_t small = 0;      // norms and biases
};

LayerSizes layer_sizes(const ModelConfig& c, const FamilyOptions& o, int l) {
  const int64_t h = c.hidden_size, d = c.head_dim, hq = c.num_heads * d, hkv = c.num_kv_heads * d;
  LayerSizes s;
  s.attn_gemm = (hq + 2 * hkv) * h + h * hq;
  s.small = (o.sandwich_norms ? 4 : 2) * h + (o.qk_norm ? 2 * d : 0) + (o.qkv_bias ? hq + 2 * hkv : 0) +
            (o.o_bias ? h : 0);
  const bool moe = o.moe && c.is_moe_layer(l);
  if (moe) {
    s.router = static_cast<int64_t>(c.num_experts) * h;
    s.mlp_gemm = static_cast<int64_t>(c.num_experts) * 3 * c.moe_intermediate_size * h;
    if (o.shared_expert != SharedExpert::kNone) s.mlp_gemm += 3 * c.shared_expert_intermediate_size * h;
    if (o.shared_expert == SharedExpert::kSigmoidGated) s.router += h;  // [1, H] gate, fp32 like the router
  }
  if (!moe || c.residual_moe) s.mlp_gemm += 3 * c.intermediate_size * h;
  return s;
}

}  // namespace

int64_t parameter_count(const ModelConfig& c, const FamilyOptions& o) {
  const int64_t embed = c.vocab_size * c.hidden_size;
  int64_t n = embed + (c.tie_word_embeddings ? 0 : embed) + c.hidden_size;  // + final norm
  for (int l = 0; l < c.num_layers; ++l) {
    const LayerSizes s = layer_sizes(c, o, l);
    n += s.attn_gemm + s.mlp_gemm + s.router + s.small;
  }
  return n;
}

int64_t planned_weight_bytes(const ModelConfig& c, const FamilyOptions& o, DType compute) {
  const int64_t elt = dtype_size(compute == DType::kF32 ? DType::kF32 : DType::kBF16);
  // The LM head is its own packed copy even when tied (DecoderModel::allocate).
  int64_t bytes = 2 * c.vocab_size * c.hidden_size * elt;
  for (int l = 0; l < c.num_layers; ++l) {
    const LayerSizes s = layer_sizes(c, o, l);
    bytes += (s.attn_gemm + s.mlp_gemm) * elt + s.router * dtype_size(DType::kF32);  // router: fp32
  }
  return bytes;
}

}  // namespace sgl::engine
