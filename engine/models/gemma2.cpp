// Gemma 2: RMSNorm × (1 + w) in fp32, four norms per layer (sandwich: the attention and MLP outputs
// are normed before their residual add), embeddings × √hidden rounded to the model dtype, GeGLU
// (tanh GELU), scores × query_pre_attn_scalar^-½ then soft-capped, sliding-window attention on
// alternating layers, tied embeddings and a soft-capped final logit.
#include <cmath>

#include "engine/models/config_keys.h"
#include "engine/models/registry.h"

namespace sgl::engine {

Status gemma2_config(const nlohmann::json& j, const std::string& source, ModelConfig& c) {
  using namespace config_keys;
  SGL_ASSIGN_OR_RETURN(c.tie_word_embeddings, boolean(j, "tie_word_embeddings", true, source));
  SGL_ASSIGN_OR_RETURN(c.max_position_embeddings, integer(j, "max_position_embeddings", 8192, source));
  SGL_ASSIGN_OR_RETURN(double qpas, number(j, "query_pre_attn_scalar", 256, source));
  SGL_ASSIGN_OR_RETURN(double attn_cap, number(j, "attn_logit_softcapping", 0, source));
  SGL_ASSIGN_OR_RETURN(double final_cap, number(j, "final_logit_softcapping", 0, source));
  SGL_ASSIGN_OR_RETURN(c.sliding_window, integer(j, "sliding_window", 4096, source));
  if (qpas <= 0 || attn_cap < 0 || final_cap < 0 || c.sliding_window < 0)
    return corrupt(source + ": query_pre_attn_scalar, soft-caps and sliding_window must be positive");
  // HF's Gemma2 maps both activation keys to the tanh GELU; refuse one we do not compute.
  for (const char* key : {"hidden_activation", "hidden_act"}) {
    if (!j.contains(key) || j[key].is_null()) continue;
    const std::string act = j[key].is_string() ? j[key].get<std::string>() : "";
    if (act != "gelu_pytorch_tanh" && act != "gelu_new" && act != "gelu_fast")
      return unsupported(source + ": Gemma 2 activation '" + act + "' is not supported (gelu_pytorch_tanh)");
  }
  c.attn_scale = 1.0 / std::sqrt(qpas);
  c.attn_softcap = static_cast<float>(attn_cap);
  c.final_softcap = static_cast<float>(final_cap);
  c.embedding_scale = static_cast<float>(std::sqrt(static_cast<double>(c.hidden_size)));
  c.embedding_scale_in_compute_dtype = true;
  // Sliding layers: `layer_types` where a newer config lists them, else the even ones.
  c.sliding_layers.assign(static_cast<size_t>(c.num_layers), 0);
  if (j.contains("layer_types") && j["layer_types"].is_array()) {
    const auto& types = j["layer_types"];
    if (static_cast<int>(types.size()) != c.num_layers)
      return corrupt(source + ": layer_types does not list every layer");
    for (int l = 0; l < c.num_layers; ++l) {
      const std::string t = types[l].is_string() ? types[l].get<std::string>() : "";
      if (t != "sliding_attention" && t != "full_attention")
        return corrupt(source + ": layer_types[" + std::to_string(l) + "] is '" + t + "'");
      c.sliding_layers[l] = t == "sliding_attention";
    }
  } else {
    for (int l = 0; l < c.num_layers; l += 2) c.sliding_layers[l] = 1;
  }
  if (c.sliding_window == 0) c.sliding_layers.assign(c.sliding_layers.size(), 0);
  return {};
}

FamilyOptions gemma2_options(const ModelConfig& c) {
  FamilyOptions o;
  o.qkv_bias = o.o_bias = c.attention_bias;
  o.norm_weight_offset = true;
  o.sandwich_norms = true;
  o.activation = Activation::kGeluTanh;
  o.names.attn_out_norm = "post_attention_layernorm.weight";
  o.names.mlp_norm = "pre_feedforward_layernorm.weight";
  o.names.mlp_out_norm = "post_feedforward_layernorm.weight";
  return o;
}

}  // namespace sgl::engine
