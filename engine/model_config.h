// A model's shape and options, read from an HF config.json (old and transformers-5 key styles)
// plus generation_config.json.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/cpu/kernels.h"
#include "engine/dtype.h"

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
  DType dtype = DType::kBF16;  // torch_dtype / dtype: the checkpoint's precision
  // Mixture of experts (Qwen3-MoE).
  int num_experts = 0;
  int num_experts_per_tok = 0;
  int64_t moe_intermediate_size = 0;
  bool norm_topk_prob = true;
  int decoder_sparse_step = 1;
  std::vector<int> mlp_only_layers;
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
Result<ModelConfig> load_model_config(const std::string& path);

}  // namespace sgl::engine
