// Bailing MoE v1 (inclusionAI Ling-lite / Ling-plus, remote code) as inclusionAI's HF code computes
// it, not SGLang-JAX's V2-only path: a fused [q; k; v] query_key_value (bias with use_qkv_bias),
// `dense` output (bias with use_bias), a softmax router over all experts, top-k renormalised when
// norm_topk_prob and k > 1, num_shared_experts added ungated as one SwiGLU, the first
// first_k_dense_replace layers dense, and with norm_head the LM head's hidden columns L2-normalised.
#include "engine/models/config_keys.h"
#include "engine/models/registry.h"

namespace sgl::engine {

Status bailing_moe_config(const nlohmann::json& j, const std::string& source, ModelConfig& c) {
  using namespace config_keys;
  // inclusionAI's config defaults; a Ling-plus deployment config spells two keys n_*.
  SGL_ASSIGN_OR_RETURN(int64_t experts, integer(j, "num_experts", 16, source));
  SGL_ASSIGN_OR_RETURN(experts, integer(j, "n_routed_experts", experts, source));
  SGL_ASSIGN_OR_RETURN(int64_t shared, integer(j, "num_shared_experts", 0, source));
  SGL_ASSIGN_OR_RETURN(shared, integer(j, "n_shared_experts", shared, source));
  SGL_ASSIGN_OR_RETURN(int64_t top_k, integer(j, "num_experts_per_tok", 2, source));
  SGL_ASSIGN_OR_RETURN(int64_t first_dense, integer(j, "first_k_dense_replace", 0, source));
  SGL_ASSIGN_OR_RETURN(bool norm_topk, boolean(j, "norm_topk_prob", true, source));
  SGL_ASSIGN_OR_RETURN(c.rms_norm_eps, number(j, "rms_norm_eps", 1e-5, source));
  SGL_ASSIGN_OR_RETURN(c.max_position_embeddings, integer(j, "max_position_embeddings", 16384, source));
  SGL_ASSIGN_OR_RETURN(c.attention_bias, boolean(j, "use_qkv_bias", false, source));
  SGL_ASSIGN_OR_RETURN(c.attention_out_bias, boolean(j, "use_bias", true, source));
  SGL_ASSIGN_OR_RETURN(c.norm_head, boolean(j, "norm_head", false, source));
  if (c.moe_intermediate_size <= 0) c.moe_intermediate_size = c.intermediate_size;
  if (experts <= 0 || top_k <= 0 || top_k > experts || shared < 0 || first_dense < 0 ||
      c.moe_intermediate_size <= 0)
    return corrupt(source + ": inconsistent MoE sizes");
  c.num_experts = static_cast<int>(experts);
  c.num_experts_per_tok = static_cast<int>(top_k);
  c.norm_topk_prob = norm_topk && top_k > 1;
  c.shared_expert_intermediate_size = c.moe_intermediate_size * shared;
  c.mlp_only_layers.clear();
  for (int l = 0; l < std::min<int64_t>(first_dense, c.num_layers); ++l) c.mlp_only_layers.push_back(l);
  return {};
}

FamilyOptions bailing_moe_options(const ModelConfig& c) {
  FamilyOptions o;
  o.moe = true;
  o.qkv_bias = c.attention_bias;
  o.o_bias = c.attention_out_bias;  // `use_bias`
  if (c.shared_expert_intermediate_size > 0) o.shared_expert = SharedExpert::kUngated;
  WeightNames& n = o.names;
  n.embed = "model.word_embeddings.weight";
  n.qkv = "attention.query_key_value";
  n.o = "attention.dense";
  n.shared_root = "mlp.shared_experts";
  return o;
}

}  // namespace sgl::engine
