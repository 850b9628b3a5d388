// Grok (xai-org/grok-2, SGLang's Grok1ForCausalLM; config model_type "git"): four RMSNorms per layer
// (sandwich), scores /√head_dim soft-capped at 30 and then scaled by the xAI temperature
// log2(p)/log2(attn_temperature_len) past that length, a router soft-capped before a softmax over
// all experts with the top-k weights not renormalised, GELU (tanh) experts, with residual_moe a
// dense GELU MLP beside them as (mlp + moe)/√2, embeddings × embedding_multiplier_scale, logits ×
// output_multiplier_scale then soft-capped. RoPE is plain: rope_type "original" selects the
// un-interpolated frequencies (SGLang; llama.cpp reads it as YaRN, which xAI's reference does not).
#include "engine/models/config_keys.h"
#include "engine/models/registry.h"

namespace sgl::engine {

Status grok_config(const nlohmann::json& j, const std::string& source, ModelConfig& c) {
  using namespace config_keys;
  // SGLang's getattr defaults (Grok-1's values where Grok-2 sets the key).
  SGL_ASSIGN_OR_RETURN(int64_t head_dim, integer(j, "head_dim", 128, source));
  SGL_ASSIGN_OR_RETURN(c.moe_intermediate_size,
                       integer(j, "moe_intermediate_size", c.intermediate_size, source));
  SGL_ASSIGN_OR_RETURN(c.residual_moe, boolean(j, "residual_moe", false, source));
  SGL_ASSIGN_OR_RETURN(double emb, number(j, "embedding_multiplier_scale", 78.38367176906169, source));
  SGL_ASSIGN_OR_RETURN(double out, number(j, "output_multiplier_scale", 0.5773502691896257, source));
  SGL_ASSIGN_OR_RETURN(double attn_cap, number(j, "attn_logit_softcapping", 30.0, source));
  SGL_ASSIGN_OR_RETURN(double router_cap, number(j, "router_logit_softcapping", 30.0, source));
  SGL_ASSIGN_OR_RETURN(double final_cap, number(j, "final_logit_softcapping", 0, source));
  SGL_ASSIGN_OR_RETURN(int64_t temp_len, integer(j, "attn_temperature_len", -1, source));
  SGL_ASSIGN_OR_RETURN(int64_t window, integer(j, "sliding_window_size", -1, source));
  if (window > 0)
    return unsupported(source + ": Grok with sliding_window_size > 0 is not supported (Grok-2 uses -1)");
  if (j.contains("rope_type") && j["rope_type"].is_string() &&
      j["rope_type"].get<std::string>() != "original")
    return unsupported(source + ": Grok rope_type '" + j["rope_type"].get<std::string>() +
                       "' is not supported (\"original\": plain RoPE)");
  if (head_dim <= 0 || attn_cap < 0 || router_cap < 0 || final_cap < 0)
    return corrupt(source + ": inconsistent head_dim or soft-caps");
  c.head_dim = static_cast<int>(head_dim);
  c.rope.rotary_dim = c.head_dim;
  c.rope.theta = static_cast<double>(static_cast<int64_t>(c.rope.theta));  // SGLang: int(rope_theta)
  c.norm_topk_prob = false;
  c.embedding_scale = static_cast<float>(emb);
  c.logit_scale = static_cast<float>(out);
  c.attn_softcap = static_cast<float>(attn_cap);
  c.router_softcap = static_cast<float>(router_cap);
  c.final_softcap = static_cast<float>(final_cap);
  c.attn_temperature_len = temp_len > 0 ? temp_len : 0;
  if (c.num_experts <= 0 || c.num_experts_per_tok <= 0 || c.num_experts_per_tok > c.num_experts ||
      c.moe_intermediate_size <= 0)
    return corrupt(source + ": inconsistent MoE sizes (num_local_experts, num_experts_per_tok)");
  return {};
}

FamilyOptions grok_options(const ModelConfig&) {
  FamilyOptions o;
  o.moe = true;
  o.sandwich_norms = true;
  o.activation = Activation::kGeluTanh;
  WeightNames& n = o.names;
  n.attn_norm = "pre_attn_norm.weight";
  n.attn_out_norm = "post_attn_norm.weight";
  n.mlp_norm = "pre_moe_norm.weight";
  n.mlp_out_norm = "post_moe_norm.weight";
  n.router = "block_sparse_moe.gate.weight";
  n.expert_root = "block_sparse_moe.experts";
  n.expert_gate = "w1.weight";
  n.expert_up = "w3.weight";
  n.expert_down = "w2.weight";
  return o;
}

}  // namespace sgl::engine
