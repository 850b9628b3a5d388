// Qwen2-MoE (Qwen1.5-MoE, Qwen2-57B-A14B): Qwen2 attention (q/k/v bias); sparse layers route with a
// softmax over all experts, top-k, renormalised only with norm_topk_prob (HF's default: false), and
// add a shared expert scaled per token by sigmoid(x·shared_expert_gate).
#include "engine/models/config_keys.h"
#include "engine/models/registry.h"

namespace sgl::engine {

Status qwen2_moe_config(const nlohmann::json& j, const std::string& source, ModelConfig& c) {
  using namespace config_keys;
  // HF's defaults for keys a config may leave out (the common parser's are Qwen3-MoE's).
  SGL_ASSIGN_OR_RETURN(int64_t experts, integer(j, "num_experts", 60, source));
  SGL_ASSIGN_OR_RETURN(int64_t top_k, integer(j, "num_experts_per_tok", 4, source));
  SGL_ASSIGN_OR_RETURN(c.moe_intermediate_size, integer(j, "moe_intermediate_size", 1408, source));
  SGL_ASSIGN_OR_RETURN(c.shared_expert_intermediate_size,
                       integer(j, "shared_expert_intermediate_size", 5632, source));
  SGL_ASSIGN_OR_RETURN(c.norm_topk_prob, boolean(j, "norm_topk_prob", false, source));
  SGL_ASSIGN_OR_RETURN(c.attention_bias, boolean(j, "qkv_bias", true, source));
  SGL_ASSIGN_OR_RETURN(bool sliding, boolean(j, "use_sliding_window", false, source));
  if (sliding)
    return unsupported(source +
                       ": Qwen2-MoE with use_sliding_window true is not supported (no published "
                       "checkpoint uses it)");
  c.num_experts = static_cast<int>(experts);
  c.num_experts_per_tok = static_cast<int>(top_k);
  if (experts <= 0 || top_k <= 0 || top_k > experts || c.moe_intermediate_size <= 0 ||
      c.shared_expert_intermediate_size < 0)
    return corrupt(source + ": inconsistent MoE sizes");
  return {};
}

FamilyOptions qwen2_moe_options(const ModelConfig& c) {
  FamilyOptions o;
  o.qkv_bias = c.attention_bias;  // `qkv_bias`, true unless a config says otherwise
  o.moe = true;
  if (c.shared_expert_intermediate_size > 0) o.shared_expert = SharedExpert::kSigmoidGated;
  return o;
}

}  // namespace sgl::engine
