// How to build a model runner: what the server's launch flags say about the engine.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/result.h"
#include "engine/model_runner.h"

namespace sgl::engine {

struct EngineConfig {
  std::string model_path;            // HF model dir, or a preset name/path under conf/models
  std::string load_format = "auto";  // auto | safetensors | dummy
  std::string dtype = "auto";        // auto | float32 | bfloat16 | float16 (compute dtype)
  std::string device = "cpu";        // cpu | cuda
  uint64_t random_seed = 0;          // dummy weights and unseeded sampling
  int64_t context_length = 0;        // 0 = from config.json
  int model_layer_nums = 0;          // > 0: only the first N decoder layers (SGLang-JAX's flag)
  int num_threads = 0;               // 0 = all cores (oneTBB)
  // > 0: this runner's forwards run in a oneTBB arena of this many threads of their own, so that
  // data-parallel replicas in one process split the cores instead of contending for all of them.
  int arena_threads = 0;
  // --device cuda: decode steps of up to this many requests replay CUDA graphs (0 = 160, SGLang's
  // default cap for small GPUs); --disable-cuda-graph turns them off.
  int cuda_graph_max_bs = 0;
  bool disable_cuda_graph = false;
  // Tensor / expert parallelism (engine/dist/): ranks per node = tp_size / nnodes.
  int tp_size = 1;
  int ep_size = 1;
  int nnodes = 1;
  int node_rank = 0;
  std::string dist_init_addr;  // host:port of node 0's rendezvous store (required when nnodes > 1)
  int dist_timeout_s = 60;     // rendezvous and per-collective timeout (a dead or hung rank)
  // Quantized weights (engine/quant/): "" = as the checkpoint's quantization_config says (or none);
  // else SGLang's --quantization name, which must agree with a pre-quantized checkpoint.
  std::string quantization;
  std::string quantization_config_path;  // SGLang-JAX's YAML rules (--quantization-config-path)
  std::string kv_cache_dtype = "auto";   // auto | bf16 | fp8_e4m3 | fp8_e5m2
  std::string quantization_param_path;   // per-layer KV scales (--quantization-param-path)
  // --json-model-override-args: a JSON object whose keys replace config.json's (as SGLang's
  // config.update) before the model is built; "" or "{}" = none.
  std::string json_model_override_args;
  bool enable_nan_detection = false;  // NaN logits logged and replaced by -1e5 (SGLang's flag)
};

// A model path is an HF directory, a config .json file, or a preset name from conf/models: where
// its config is read from (errors name the path and the preset folders looked in).
Result<std::string> resolve_config_path(const std::string& model_path);

// The KV pool's element type for --kv-cache-dtype (auto: the compute dtype); errors name the value.
Result<DType> kv_cache_dtype(const EngineConfig& config, DType compute);

// Resolves the architecture through the model registry and loads the weights.
Result<std::unique_ptr<ModelRunner>> create_model_runner(const EngineConfig& config);

}  // namespace sgl::engine
