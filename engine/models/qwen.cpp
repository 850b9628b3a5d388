// Qwen (v1), QWenLMHeadModel (remote code, model_type "qwen"): Llama's decoder with a fused c_attn
// (q|k|v thirds, with bias), MHA, a SwiGLU whose gate is w2 and up w1 at half the configured
// intermediate_size, RMSNorm eps `layer_norm_epsilon`, RoPE base `rotary_emb_base` over
// `rotary_pct` of the head, and logn query scaling past `seq_length`.
#include <fmt/format.h>

#include "engine/models/config_keys.h"
#include "engine/models/registry.h"

namespace sgl::engine {

Status qwen_config(const nlohmann::json& j, const std::string& source, ModelConfig& c) {
  using namespace config_keys;
  SGL_ASSIGN_OR_RETURN(int64_t kv_channels, integer(j, "kv_channels", 128, source));
  SGL_ASSIGN_OR_RETURN(int64_t inter, integer(j, "intermediate_size", 22016, source));
  SGL_ASSIGN_OR_RETURN(c.rms_norm_eps, number(j, "layer_norm_epsilon", 1e-6, source));
  SGL_ASSIGN_OR_RETURN(c.rope.theta, number(j, "rotary_emb_base", 10000.0, source));
  SGL_ASSIGN_OR_RETURN(double rotary_pct, number(j, "rotary_pct", 1.0, source));
  SGL_ASSIGN_OR_RETURN(int64_t seq_length, integer(j, "seq_length", 0, source));
  SGL_ASSIGN_OR_RETURN(bool logn, boolean(j, "use_logn_attn", true, source));
  SGL_ASSIGN_OR_RETURN(bool dynamic_ntk, boolean(j, "use_dynamic_ntk", true, source));
  SGL_ASSIGN_OR_RETURN(bool no_bias, boolean(j, "no_bias", true, source));
  if (!no_bias)
    return unsupported(source +
                       ": Qwen with no_bias false (biases on attn.c_proj and the MLP) is not supported");
  if (kv_channels <= 0 || inter <= 0 || inter % 2 != 0 || rotary_pct <= 0 || rotary_pct > 1)
    return corrupt(source + ": inconsistent kv_channels / intermediate_size / rotary_pct");
  c.head_dim = static_cast<int>(kv_channels);
  c.num_kv_heads = c.num_heads;     // MHA: Qwen v1 has no kv-head key
  c.intermediate_size = inter / 2;  // w1 and w2 are intermediate_size / 2 wide
  c.rope.rotary_dim = static_cast<int64_t>(static_cast<double>(c.head_dim) * rotary_pct);
  if (seq_length > 0) {
    // The trained context is the served one, as SGLang-JAX takes it (max_position_embeddings only
    // sizes HF's rotary cache).
    c.max_position_embeddings = seq_length;
    if (logn) c.logn_seq_length = seq_length;
    // HF switches RoPE to dynamic NTK (a base chosen from the prompt length) only past seq_length,
    // so within the context above it never applies.
    if (dynamic_ntk) c.dynamic_ntk_seq_length = seq_length;
  }
  return {};
}

FamilyOptions qwen_options(const ModelConfig&) {
  FamilyOptions o;
  o.qkv_bias = true;  // c_attn always has a bias
  WeightNames& n = o.names;
  n.embed = "transformer.wte.weight";
  n.final_norm = "transformer.ln_f.weight";
  n.layer_root = "transformer.h";
  n.attn_norm = "ln_1.weight";
  n.mlp_norm = "ln_2.weight";
  n.qkv = "attn.c_attn";
  n.o = "attn.c_proj";
  n.gate = "mlp.w2.weight";  // SiLU(x·w2ᵀ) ⊙ (x·w1ᵀ)
  n.up = "mlp.w1.weight";
  n.down = "mlp.c_proj.weight";
  return o;
}

}  // namespace sgl::engine
