// Whether --model-path fits this machine, from its config alone (an HF directory or a conf/models
// preset — no weight is read): the bytes the engine will make resident, by the engine's own
// functions (engine/models/model_size.h, ShardPlan, kv_cache_dtype), against the memory the
// probes found, and the KV pool the scheduler would plan from what is left.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/dtype.h"
#include "server/args.h"
#include "server/check_env/cuda_probe.h"
#include "server/check_env/report.h"

namespace sgl::server::check_env {

struct ModelEstimate {
  std::string config_path;  // where the config was read (directory, file or preset)
  std::string architecture;
  bool dummy = false;  // random weights (--load-format dummy, or auto on a config file / preset)
  int64_t parameters = 0;
  engine::DType compute = engine::DType::kBF16;
  // While loading, every linear is resident at the compute dtype (DecoderModel::allocate) before
  // any quantization: the peak, whatever the checkpoint's format.
  int64_t load_bytes = 0;
  int64_t serve_bytes = 0;         // once loaded: quantized linears at their codes' size (≈)
  std::string weight_format;       // "bfloat16", "fp8", "int4 (awq)"...
  int64_t kv_bytes_per_token = 0;  // one node's ranks together, at the KV cache dtype
  int64_t context_length = 0;
  int ranks_per_node = 1;
  int nnodes = 1;
  // What the CUDA backend checks on the config (CudaModelRunner::create).
  std::string quant_name;  // the checkpoint's quantization_config method, "" for float weights
  int head_dim = 0;
  int64_t rotary_dim = 0;
  bool classifier = false;
};

// The estimate, or what the engine would refuse about the model before loading a weight: no
// config, an unsupported architecture, a --tp-size its heads do not split by, a --quantization or
// --dtype it cannot run, no *.safetensors for --load-format safetensors.
Result<ModelEstimate> estimate_model(const ServerArgs& args);

// The memory a server started now could use.
struct MemoryView {
  int64_t usable = 0;                  // MemAvailable, or the cgroup's room when smaller
  int64_t mem_available = 0;           // MemAvailable alone: what the engine sizes its KV pool from
  std::optional<int64_t> cgroup_room;  // the cgroup limit less its usage (page cache excluded)
};

struct FitResult {
  std::vector<Entry> entries;  // weights, KV per token, planned pool...
  std::vector<Finding> findings;
};

// --device cpu: weights and KV pool in host memory (per node: the node's ranks share it).
// --device cuda: the host copy while loading, then weights and KV pool on GPU 0.
FitResult check_model_fit(const ModelEstimate& model, const ServerArgs& args, const MemoryView& memory,
                          const std::vector<GpuInfo>& gpus);

// The KV pool the scheduler plans (sched/scheduler.cpp plan_capacity): `free_bytes` ×
// --mem-fraction-static over the bytes per token, capped by --max-total-tokens, whole pages.
int64_t planned_kv_tokens(int64_t free_bytes, const ServerArgs& args, int64_t kv_bytes_per_token);

}  // namespace sgl::server::check_env
