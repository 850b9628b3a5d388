// A model's shape and options, read from an HF config.json (old and transformers-5 key styles)
// plus generation_config.json.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/cpu/kernels.h"
#include "engine/dtype.h"
#include "engine/quant/quant_config.h"

namespace sgl::engine {

struct ModelConfig {
  std::string architecture;  // architectures[0]
  std::string model_type;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int num_layers = 0;
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  double rms_norm_eps = 1e-6;
  cpu::RopeConfig rope;
  int64_t max_position_embeddings = 0;
  bool tie_word_embeddings = false;
  bool attention_bias = false;
  bool mlp_bias = false;
  bool attention_out_bias = false;  // a bias on the output projection alone (Bailing's use_bias)
  DType dtype = DType::kBF16;       // torch_dtype / dtype: the checkpoint's precision
  // Mixture of experts (Qwen3-MoE).
  int num_experts = 0;
  int num_experts_per_tok = 0;
  int64_t moe_intermediate_size = 0;
  bool norm_topk_prob = true;
  int decoder_sparse_step = 1;
  std::vector<int> mlp_only_layers;
  int64_t shared_expert_intermediate_size = 0;  // Qwen2-MoE shared expert; Bailing's shared experts
  // Family extras, set by a family's config reader (engine/models/<family>.cpp) from its own keys;
  // the defaults are the plain Llama decoder's.
  float embedding_scale = 1.0f;  // embeddings × this (Gemma 2: √hidden; Grok: its multiplier)
  // Gemma 2: HF makes √hidden a tensor of the activations' dtype, so a bf16 model multiplies by it
  // rounded to bf16 (9b: 59.75, not 59.87); DecoderModel rounds it for a bf16 compute dtype.
  bool embedding_scale_in_compute_dtype = false;
  float logit_scale = 1.0f;  // logits × this before the final cap (Grok output_multiplier_scale)
  double attn_scale = 0;     // scores × this; 0 → 1/√head_dim (Gemma 2: query_pre_attn_scalar^-½)
  float attn_softcap = 0, final_softcap = 0, router_softcap = 0;  // cap·tanh(x/cap); 0 = off
  int64_t attn_temperature_len = 0;     // Grok's xAI temperature (cpu::AttentionOptions)
  int64_t sliding_window = 0;           // tokens a query sees on a sliding layer, itself included
  std::vector<uint8_t> sliding_layers;  // per layer: 1 = attends within sliding_window
  int64_t dynamic_ntk_seq_length = 0;   // Qwen v1 use_dynamic_ntk: RoPE rebased past this length
  int64_t logn_seq_length = 0;          // Qwen v1 use_logn_attn: q × max(1, ln(p+1)/ln(seq_length))
  bool norm_head = false;               // Bailing: each hidden column of the LM head L2-normalised at load
  bool residual_moe = false;            // Grok: a dense MLP beside the experts, (mlp + moe)/√2
  // *ForSequenceClassification: rows of the score head that replaces the LM head (0: a language
  // model). The embedding table keeps vocab_size rows; a logits row has logits_width() columns.
  int64_t num_labels = 0;
  std::vector<std::string> id2label;  // num_labels names: config.json's id2label, else "LABEL_<i>"
  QuantConfig quant;  // quantization_config (none for a float checkpoint)
  int64_t logits_width() const { return num_labels > 0 ? num_labels : vocab_size; }

  int64_t sliding_window_of(int layer) const {
    return layer < static_cast<int>(sliding_layers.size()) && sliding_layers[layer] ? sliding_window : 0;
  }
  // Tokens.
  std::vector<int32_t> eos_token_ids;  // config.json then generation_config.json, deduplicated
  int32_t bos_token_id = -1;
  // generation_config.json sampling defaults (-1 / 0 when absent).
  double default_temperature = -1, default_top_p = -1;
  int default_top_k = -1;

  bool is_moe_layer(int layer) const;
};

// `source` names the file in error messages.
Result<ModelConfig> parse_model_config(std::string_view config_json, const std::string& source);
// A model directory (config.json + optional generation_config.json) or a config .json file.
// `overrides`: a JSON object whose top-level keys replace config.json's first
// (--json-model-override-args); "" or "{}" = none. Errors name a malformed override.
Result<ModelConfig> load_model_config(const std::string& path, std::string_view overrides = "");

}  // namespace sgl::engine
