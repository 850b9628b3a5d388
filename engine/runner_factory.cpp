// create_model_runner: config → family → weights (checkpoint or dummy) → backend runner.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <vector>

#include "base/install_paths.h"
#include "engine/cpu/cpu_model_runner.h"
#include "engine/dist/tp_runner.h"
#include "engine/engine_config.h"
#include "engine/models/registry.h"
#include "engine/quant/online_quant.h"
#include "engine/weight_source.h"
#if SGL_HAVE_CUDA
#include "engine/cuda/cuda_model_runner.h"
#endif

namespace sgl::engine {

namespace fs = std::filesystem;

// Declared in engine_config.h: --check-env resolves the model the same way before any load.
Result<std::string> resolve_config_path(const std::string& model_path) {
  std::error_code ec;
  if (fs::is_directory(model_path, ec)) {
    if (!fs::exists(model_path + "/config.json", ec)) return not_found(model_path + " has no config.json");
    return model_path;
  }
  if (fs::is_regular_file(model_path, ec)) return model_path;
  // Presets are looked up relative to the executable (base/install_paths.h), not at a path fixed
  // at build time, so an installed or moved tree finds its own.
  std::vector<std::string> dirs = conf_dirs();
  for (const std::string& dir : dirs) {
    std::string p = dir + "/models/" + model_path + ".json";
    if (fs::is_regular_file(p, ec)) return p;
  }
  return not_found(fmt::format(
      "model path '{}' is neither a model directory, a config file, nor a preset (looked in {}/models; "
      "SGLCPP_CONF_DIR names another conf directory)",
      model_path, fmt::join(dirs, "/models, ")));
}

Result<DType> kv_cache_dtype(const EngineConfig& cfg, DType compute) {
  const std::string& k = cfg.kv_cache_dtype;
  if (k.empty() || k == "auto") return compute;
  if (k == "bf16" || k == "bfloat16") return DType::kBF16;
  if (k == "fp8_e4m3") return DType::kF8E4M3;
  if (k == "fp8_e5m2") return DType::kF8E5M2;
  if (k == "fp4_e2m1") return unsupported("--kv-cache-dtype fp4_e2m1: an fp4 KV cache is not implemented");
  return invalid_argument("--kv-cache-dtype " + k + ": expected auto, bf16, fp8_e4m3 or fp8_e5m2");
}

Result<std::unique_ptr<ModelRunner>> create_model_runner(const EngineConfig& cfg) {
  if (cfg.device == "cuda") {
#if SGL_HAVE_CUDA
    if (cfg.tp_size > 1 || cfg.nnodes > 1)
      return unsupported("--device cuda runs on one GPU (--tp-size 1) so far");
    SGL_ASSIGN_OR_RETURN(auto cuda_runner, cuda::CudaModelRunner::create(cfg));
    return std::unique_ptr<ModelRunner>(std::move(cuda_runner));
#else
    return unsupported("--device cuda: this binary was built without the CUDA toolkit");
#endif
  }
  if (cfg.tp_size > 1 || cfg.nnodes > 1) return dist::create_tp_runner(cfg);  // node 0's leader
  SGL_ASSIGN_OR_RETURN(auto runner, cpu::create_cpu_runner(cfg, ShardPlan{}, nullptr));
  return std::unique_ptr<ModelRunner>(std::move(runner));
}

Result<std::unique_ptr<cpu::CpuModelRunner>> cpu::create_cpu_runner(const EngineConfig& cfg,
                                                                    const ShardPlan& requested_shard,
                                                                    dist::Communicator* comm) {
  if (cfg.device == "tpu") return unsupported("--device tpu: sglcpp runs on cpu or cuda, not TPUs");
  if (cfg.device == "cuda") return unsupported("--device cuda: the CUDA backend is not built in this binary");
  if (cfg.device != "cpu") return invalid_argument("unknown --device '" + cfg.device + "' (cpu, cuda)");
  SGL_ASSIGN_OR_RETURN(std::string config_path, resolve_config_path(cfg.model_path));
  SGL_ASSIGN_OR_RETURN(ModelConfig mc, load_model_config(config_path, cfg.json_model_override_args));
  if (cfg.model_layer_nums > 0 && cfg.model_layer_nums < mc.num_layers) {
    // The first N layers only (SGLang-JAX's --model-layer-nums): a model's shape at a size that
    // fits, for benchmarks and tests; the checkpoint's later layers are never read.
    mc.num_layers = cfg.model_layer_nums;
    if (mc.sliding_layers.size() > static_cast<size_t>(mc.num_layers))
      mc.sliding_layers.resize(mc.num_layers);
  }
  SGL_ASSIGN_OR_RETURN(FamilyOptions opts, family_options(mc));
  if (!cfg.quantization_config_path.empty())
    return unsupported("--quantization-config-path: SGLang-JAX's quantization rules are not implemented yet");
  if (!cfg.quantization_param_path.empty())
    return unsupported(
        "--quantization-param-path: per-layer KV cache scales are not implemented yet (an fp8 KV "
        "cache uses scale 1.0, as SGLang without the file)");
  DType compute;
  if (cfg.dtype == "float32" || cfg.dtype == "float" || (cfg.dtype == "auto" && mc.dtype == DType::kF32)) {
    compute = DType::kF32;
  } else if (cfg.dtype == "bfloat16" || cfg.dtype == "auto") {
    compute = DType::kBF16;
  } else if (cfg.dtype == "float16" || cfg.dtype == "half") {
    // SGLang launch lines often say --dtype half (GPU habit); the CPU backend has no fp16 GEMM, and
    // bf16 keeps fp16's memory footprint with a wider range, so serve rather than refuse.
    spdlog::warn("--dtype {}: the CPU backend computes in bfloat16 instead", cfg.dtype);
    compute = DType::kBF16;
  } else {
    return invalid_argument(
        fmt::format("--dtype {}: expected auto, half, float16, bfloat16, float or float32", cfg.dtype));
  }
  std::error_code ec;
  const bool is_dir = fs::is_directory(config_path, ec);
  std::string format = cfg.load_format;
  if (format == "auto") format = is_dir ? "safetensors" : "dummy";
  if (format != "safetensors" && format != "dummy")
    return unsupported("--load-format " + cfg.load_format + " (auto, safetensors, dummy)");
  if (format == "safetensors" && !is_dir)
    return invalid_argument(
        config_path + " is a config file: real weights need a model directory (or --load-format dummy)");
  SGL_ASSIGN_OR_RETURN(OnlineQuant online,
                       online_quantization(mc.quant, cfg.quantization, format == "dummy"));

  auto model = std::make_unique<DecoderModel>(mc, opts, compute);
  // A default ShardPlan (tp_size 1) means the whole model; otherwise its rank, tp and ep sizes.
  ShardPlan shard = ShardPlan::whole(mc);
  if (requested_shard.sharded()) {
    SGL_ASSIGN_OR_RETURN(shard, ShardPlan::make(mc, requested_shard.tp_rank, requested_shard.tp_size,
                                                requested_shard.ep_size));
  }
  model->set_shard(shard, comm);
  WeightSource source;
  source.dummy = format == "dummy";
  source.path = config_path;
  source.seed = cfg.random_seed;
  source.online = online;
  source.quantization = cfg.quantization;
  // One rank of a tensor-parallel group logs the load's progress.
  SGL_TRY(fill_weights(*model, source, !requested_shard.sharded() || requested_shard.tp_rank == 0));
  ModelInfo info;
  info.architecture = mc.architecture;
  info.model_type = mc.model_type;
  info.vocab_size = mc.vocab_size;
  info.hidden_size = mc.hidden_size;
  info.num_layers = mc.num_layers;
  info.num_kv_heads = mc.num_kv_heads;
  info.head_dim = mc.head_dim;
  info.context_length = cfg.context_length > 0 ? cfg.context_length : mc.max_position_embeddings;
  info.dynamic_ntk_seq_length = mc.dynamic_ntk_seq_length;
  // Qwen v1's remote code tabulates its logn factors for positions below 32768 only.
  if (mc.logn_seq_length > 0 && info.context_length > 32768)
    return invalid_argument(fmt::format(
        "--context-length {}: Qwen's logn attention is defined up to 32768 tokens", info.context_length));
  info.eos_token_ids = mc.eos_token_ids;
  info.weight_bytes = model->weight_bytes();
  info.routed_expert_bytes = model->routed_expert_bytes();
  info.num_experts = mc.num_experts;
  info.num_experts_per_tok = mc.num_experts_per_tok;
  info.config = std::make_shared<const ModelConfig>(mc);
  // Per rank: its KV heads only.
  SGL_ASSIGN_OR_RETURN(DType kv_dtype, kv_cache_dtype(cfg, compute));
  info.kv_bytes_per_token = 2LL * mc.num_layers * shard.kv_heads * mc.head_dim * dtype_size(kv_dtype);
  return std::make_unique<cpu::CpuModelRunner>(std::move(model), std::move(info), cfg, std::move(source));
}

}  // namespace sgl::engine
