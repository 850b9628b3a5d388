// Model, tokenizer and quantization flags.
#include "server/flags/flag_table.h"

namespace sgl::server::flags {

void add_model_flags(FlagTable& t) {
  using K = Kind;
  t.group("Model and tokenizer");
  t.add("--config", &ServerArgs::config, K::kStr, "None",
        "Read flags from a YAML file (keys are flag names, as SGLang's); the command line wins");
  t.add("--model-path,--model", &ServerArgs::model_path, K::kStr, "<required>",
        "HF model directory or a conf/models preset")
      .option->required();
  t.add("--tokenizer-path", &ServerArgs::tokenizer_path, K::kStr, "None",
        "Tokenizer directory (default: --model-path)");
  t.add("--tokenizer-mode", &ServerArgs::tokenizer_mode, K::kStr, "auto",
        "auto and slow both read tokenizer.json (sglcpp has one tokenizer implementation)", "auto|slow");
  t.add("--skip-tokenizer-init", &ServerArgs::skip_tokenizer_init, K::kTrue, "False",
        "Take token ids (input_ids) and return token ids only: no text in, no text out");
  t.add("--load-format", &ServerArgs::load_format, K::kStr, "auto",
        "auto | safetensors | dummy (seeded random weights of the config's shape)",
        "auto|pt|safetensors|npcache|dummy|sharded_state|gguf|bitsandbytes|layered|remote")
      .refuse({"pt", "npcache", "sharded_state", "gguf", "bitsandbytes", "layered", "remote"},
              "sglcpp reads safetensors checkpoints only (auto, safetensors) or makes dummy weights");
  t.add("--trust-remote-code", &ServerArgs::trust_remote_code, K::kTrue, "False", "")
      .ignored("no remote code is ever run; models load natively");
  t.add("--context-length", &ServerArgs::context_length, K::kInt, "None",
        "Model context length (default: config.json)");
  t.add("--is-embedding", &ServerArgs::is_embedding, K::kTrue, "False",
        "Serve an embedding model (last-token pooling on /v1/embeddings and /encode)");
  t.add("--model-layer-nums", &ServerArgs::model_layer_nums, K::kInt, "None",
        "Load and run only the first N decoder layers (a big model's shape in less memory)");
  t.add("--dtype", &ServerArgs::dtype, K::kStr, "auto", "Weights and compute dtype",
        "auto|half|float16|bfloat16|float|float32");
  t.add(
      "--quantization", &ServerArgs::quantization, K::kStr, "None",
      "Quantized weights; must agree with a pre-quantized checkpoint's quantization_config",
      "awq|fp8|mxfp8|gptq|marlin|gptq_marlin|awq_marlin|bitsandbytes|gguf|modelopt|modelopt_fp8|modelopt_fp4|"
      "petit_nvfp4|w8a8_int8|w8a8_fp8|moe_wna16|qoq|w4afp8|mxfp4|auto-round|compressed-tensors|modelslim|"
      "quark_int4fp8_moe");
  t.add("--enable-nan-detection", &ServerArgs::enable_nan_detection, K::kTrue, "False",
        "NaN logits are logged and replaced by -1e5 before sampling (SGLang's check)");
  t.add("--json-model-override-args", &ServerArgs::json_model_override_args, K::kStr, "{}",
        "A JSON object whose keys replace config.json's before the model is built");
  t.add("--quantization-param-path", &ServerArgs::quantization_param_path, K::kStr, "None",
        "Per-layer KV cache scaling factors (JSON)");
  t.add("--quantization-config-path", &ServerArgs::quantization_config_path, K::kStr, "None",
        "SGLang-JAX's quantization rules file");
  t.add("--kv-cache-dtype", &ServerArgs::kv_cache_dtype, K::kStr, "auto", "KV cache element type",
        "auto|fp8_e5m2|fp8_e4m3|bf16|bfloat16|fp4_e2m1");
  t.add("--served-model-name", &ServerArgs::served_model_name, K::kStr, "None",
        "Name in /v1/models (default: --model-path)");
  t.add("--chat-template", &ServerArgs::chat_template, K::kStr, "None",
        "Chat template: a file, a built-in name (chatml, qwen, llama-3-instruct) or a template named in "
        "tokenizer_config.json");
  t.add("--download-dir", &ServerArgs::download_dir, K::kStr, "None", "")
      .ignored("models are read from local directories; nothing is downloaded");
  t.add("--random-seed", &ServerArgs::random_seed, K::kInt, "42",
        "Seed for dummy weights and unseeded sampling");
  t.add("--preferred-sampling-params", &ServerArgs::preferred_sampling_params, K::kStr, "None",
        "JSON object of default sampling params");
}

}  // namespace sgl::server::flags
