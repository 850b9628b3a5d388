#include "server/check_env/model_fit.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "engine/engine_config.h"
#include "engine/model_config.h"
#include "engine/models/model_size.h"
#include "engine/models/registry.h"
#include "engine/models/shard_plan.h"
#include "engine/quant/online_quant.h"
#include "engine/safetensors.h"

namespace sgl::server::check_env {
namespace {

namespace fs = std::filesystem;
using engine::DType;

// The compute dtype create_cpu_runner picks for --dtype (fp16 runs as bf16 on the CPU).
Result<DType> compute_dtype(const std::string& flag, DType checkpoint) {
  if (flag == "float32" || flag == "float" || (flag == "auto" && checkpoint == DType::kF32))
    return DType::kF32;
  if (flag == "auto" || flag == "bfloat16" || flag == "float16" || flag == "half") return DType::kBF16;
  return invalid_argument(
      fmt::format("--dtype {}: expected auto, half, float16, bfloat16, float or float32", flag));
}

// Bytes per linear-weight element once quantized (codes plus fp32 scales, and zero points for
// the integer formats), as engine/cpu/quant_weight.h stores them.
double quantized_element_bytes(engine::OnlineQuant online, const engine::QuantConfig& q) {
  using M = engine::QuantConfig::Method;
  if (online == engine::OnlineQuant::kFp8 || q.method == M::kFp8) return 1.0 + 4.0 / 128;
  const double group = q.group_size > 0 ? double(q.group_size) : 128.0;
  const double code = (q.quantized() ? q.bits : 4) / 8.0;
  return code + 8.0 / group;
}

std::string format_name(engine::OnlineQuant online, const engine::QuantConfig& q, DType compute) {
  if (q.quantized())
    return fmt::format("{} {}-bit", q.name, q.method == engine::QuantConfig::Method::kFp8 ? 8 : q.bits);
  if (online == engine::OnlineQuant::kFp8) return "fp8 (quantized at load)";
  if (online == engine::OnlineQuant::kInt4) return "int4 (dummy weights)";
  return std::string(engine::dtype_name(compute));
}

std::string params_text(int64_t n) {
  if (n >= 1'000'000'000) return fmt::format("{:.1f}B", double(n) / 1e9);
  return fmt::format("{:.1f}M", double(n) / 1e6);
}

Finding not_enough_for_kv(int64_t tokens, int64_t free_bytes, const ServerArgs& a, const char* where) {
  return fatal(fmt::format(
      "not enough memory for the KV cache {}: {} left after the weights gives max_total_num_tokens={} at "
      "--mem-fraction-static {} (the scheduler needs at least 2 pages of --page-size {})",
      where, format_bytes(std::max<int64_t>(0, free_bytes)), tokens, a.mem_fraction_static, a.page_size));
}

void add_kv_entries(FitResult& r, const ModelEstimate& m, int64_t tokens, const std::string& where) {
  r.entries.push_back({"KV cache per token", format_bytes(m.kv_bytes_per_token) +
                                                 (m.ranks_per_node > 1 ? " (this node's ranks)" : "")});
  r.entries.push_back({"KV pool (planned)", fmt::format("{} tokens, {} {}", tokens,
                                                        format_bytes(tokens * m.kv_bytes_per_token), where)});
  if (tokens > 0 && tokens < m.context_length)
    r.findings.push_back(note(fmt::format(
        "the KV pool ({} tokens) is smaller than the context length ({}): no single request can use the "
        "whole context, and concurrent requests share the pool",
        tokens, m.context_length)));
}

void check_cpu(FitResult& r, const ModelEstimate& m, const ServerArgs& a, const MemoryView& mem) {
  // The node's ranks share its memory; replicated pieces (KV heads past tp > kv_heads, routers)
  // are small next to the sharded ones, so the node's share is the model over the nodes.
  const int64_t load = (m.load_bytes + m.nnodes - 1) / m.nnodes;
  const int64_t serve = (m.serve_bytes + m.nnodes - 1) / m.nnodes;
  const std::string per_node = m.nnodes > 1 ? fmt::format(" per node (--nnodes {})", m.nnodes) : "";
  std::string avail =
      fmt::format("{} available (MemAvailable {}", format_bytes(mem.usable), format_bytes(mem.mem_available));
  if (mem.cgroup_room) avail += fmt::format(", cgroup room {}", format_bytes(*mem.cgroup_room));
  avail += ")";
  r.entries.push_back({"Memory available", avail});
  if (load > mem.usable) {
    r.findings.push_back(fatal(fmt::format(
        "--model-path {} does not fit: its weights need {}{} while loading ({} parameters in {}), and this "
        "machine has {}; use more nodes (--nnodes, --tp-size), a smaller model, or --model-layer-nums N to "
        "try the shape",
        a.model_path, format_bytes(load), per_node, params_text(m.parameters), engine::dtype_name(m.compute),
        avail)));
    return;
  }
  // The engine sizes the pool from MemAvailable after loading, blind to a cgroup limit.
  const int64_t tokens = planned_kv_tokens(mem.mem_available - serve, a, m.kv_bytes_per_token);
  add_kv_entries(r, m, tokens,
                 fmt::format("(--mem-fraction-static {} of what the weights leave)", a.mem_fraction_static));
  if (tokens < 2 * a.page_size) {
    r.findings.push_back(not_enough_for_kv(tokens, mem.mem_available - serve, a, "in host memory"));
    return;
  }
  if (mem.cgroup_room && serve + tokens * m.kv_bytes_per_token > *mem.cgroup_room) {
    const int64_t fits = planned_kv_tokens(*mem.cgroup_room - serve, a, m.kv_bytes_per_token);
    r.findings.push_back(fatal(fmt::format(
        "the KV pool is sized from MemAvailable ({}), but this cgroup allows {}: weights {} + pool {} "
        "exceed it and the kernel would kill the server; {}",
        format_bytes(mem.mem_available), format_bytes(*mem.cgroup_room), format_bytes(serve),
        format_bytes(tokens * m.kv_bytes_per_token),
        fits >= 2 * a.page_size ? fmt::format("pass --max-total-tokens {}", fits)
                                : std::string("the cgroup leaves no room for a KV cache"))));
  }
}

void check_cuda(FitResult& r, const ModelEstimate& m, const ServerArgs& a, const MemoryView& mem,
                const std::vector<GpuInfo>& gpus) {
  // CudaModelRunner::create's refusals that the config alone decides.
  if (a.dtype != "auto" && a.dtype != "bfloat16")
    r.findings.push_back(
        fatal(fmt::format("--device cuda runs in bfloat16 (--dtype auto or bfloat16), not {}", a.dtype)));
  if (!m.quant_name.empty())
    r.findings.push_back(fatal(
        fmt::format("--device cuda: {} quantized weights run on --device cpu only so far", m.quant_name)));
  if (a.kv_cache_dtype != "auto" && a.kv_cache_dtype != "bf16" && a.kv_cache_dtype != "bfloat16")
    r.findings.push_back(
        fatal("--device cuda: --kv-cache-dtype " + a.kv_cache_dtype + " runs on --device cpu only so far"));
  if (m.head_dim != 16 && m.head_dim != 32 && m.head_dim != 64 && m.head_dim != 128 && m.head_dim != 256)
    r.findings.push_back(
        fatal(fmt::format("--device cuda: head_dim {} (supported: 16, 32, 64, 128, 256)", m.head_dim)));
  if (m.rotary_dim != 0 && m.rotary_dim != m.head_dim)
    r.findings.push_back(fatal("--device cuda: partial rotary embeddings are not supported"));
  if (m.classifier)
    r.findings.push_back(fatal("--device cuda: sequence-classification heads run on --device cpu only"));
  // The CPU backend builds the bf16 model in host memory, then uploads it.
  if (m.load_bytes > mem.usable)
    r.findings.push_back(
        fatal(fmt::format("--model-path {} does not fit in host memory while loading: the CUDA backend "
                          "builds its {} of weights "
                          "on the host before the upload, and this machine has {} available",
                          a.model_path, format_bytes(m.load_bytes), format_bytes(mem.usable))));
  if (gpus.empty()) return;  // the device checks report it
  const GpuInfo& g = gpus.front();
  if (g.free_bytes < 0) {
    r.findings.push_back(
        note(fmt::format("GPU {}: free memory unknown (no context could be made)", g.index)));
    return;
  }
  const std::string where = fmt::format("GPU {} ({}, {} free of {})", g.index, g.name,
                                        format_bytes(g.free_bytes), format_bytes(g.total_bytes));
  r.entries.push_back({"Memory available", where});
  if (m.load_bytes > g.free_bytes) {
    r.findings.push_back(fatal(fmt::format(
        "--model-path {} does not fit: its weights need {} ({} parameters in bfloat16) on {}; use --device "
        "cpu with --tp-size/--nnodes, or a smaller model",
        a.model_path, format_bytes(m.load_bytes), params_text(m.parameters), where)));
    return;
  }
  const int64_t tokens = planned_kv_tokens(g.free_bytes - m.load_bytes, a, m.kv_bytes_per_token);
  add_kv_entries(r, m, tokens, "on the GPU");
  if (tokens < 2 * a.page_size)
    r.findings.push_back(not_enough_for_kv(tokens, g.free_bytes - m.load_bytes, a, "on the GPU"));
}

}  // namespace

Result<ModelEstimate> estimate_model(const ServerArgs& a) {
  ModelEstimate m;
  SGL_ASSIGN_OR_RETURN(m.config_path, engine::resolve_config_path(a.model_path));
  SGL_ASSIGN_OR_RETURN(engine::ModelConfig mc,
                       engine::load_model_config(m.config_path, a.json_model_override_args));
  if (a.model_layer_nums && *a.model_layer_nums < mc.num_layers) mc.num_layers = *a.model_layer_nums;
  SGL_ASSIGN_OR_RETURN(engine::FamilyOptions family, engine::family_options(mc));
  m.architecture = mc.architecture;
  SGL_ASSIGN_OR_RETURN(m.compute, compute_dtype(a.dtype, mc.dtype));

  std::error_code ec;
  const bool is_dir = fs::is_directory(m.config_path, ec);
  std::string format = a.load_format == "auto" ? (is_dir ? "safetensors" : "dummy") : a.load_format;
  if (format != "safetensors" && format != "dummy")
    return unsupported("--load-format " + a.load_format + " (auto, safetensors, dummy)");
  if (format == "safetensors" && !is_dir)
    return invalid_argument(
        m.config_path + " is a config file: real weights need a model directory (or --load-format dummy)");
  m.dummy = format == "dummy";
  if (!m.dummy) {
    // Opens each file's header only (memory-mapped); a missing or truncated shard fails here as at start.
    SGL_ASSIGN_OR_RETURN(auto files, engine::WeightFiles::open_dir(m.config_path));
    (void)files;
  }
  SGL_ASSIGN_OR_RETURN(engine::OnlineQuant online,
                       engine::online_quantization(mc.quant, a.quantization, m.dummy));

  const int ranks = a.tp_size / std::max(1, a.nnodes);
  engine::ShardPlan shard = engine::ShardPlan::whole(mc);
  if (a.tp_size > 1) {
    SGL_ASSIGN_OR_RETURN(shard, engine::ShardPlan::make(mc, 0, a.tp_size, a.ep_size));
  }
  engine::EngineConfig kv_flag;
  kv_flag.kv_cache_dtype = a.kv_cache_dtype;
  SGL_ASSIGN_OR_RETURN(DType kv_dtype, engine::kv_cache_dtype(kv_flag, m.compute));
  if (a.device == "cuda") kv_dtype = DType::kBF16;  // the CUDA backend's pool is bf16

  m.parameters = engine::parameter_count(mc, family);
  m.load_bytes = engine::planned_weight_bytes(mc, family, m.compute);
  m.serve_bytes = m.load_bytes;
  if (online != engine::OnlineQuant::kNone || mc.quant.quantized()) {
    // planned_weight_bytes at fp32 and bf16 differ by 2 bytes per float element: the linears and
    // the embedding + LM head (2·V·H); what remains after those at bf16 are the fp32 routers.
    const int64_t vh2 = 2 * mc.vocab_size * mc.hidden_size;
    const int64_t bf16 = engine::planned_weight_bytes(mc, family, DType::kBF16);
    const int64_t linear = (engine::planned_weight_bytes(mc, family, DType::kF32) - bf16) / 2 - vh2;
    const int64_t elt = engine::dtype_size(m.compute == DType::kF32 ? DType::kF32 : DType::kBF16);
    const int64_t routers = bf16 - 2 * vh2 - 2 * linear;
    m.serve_bytes = vh2 * elt + routers + int64_t(double(linear) * quantized_element_bytes(online, mc.quant));
  }
  m.weight_format = format_name(online, mc.quant, m.compute);
  m.ranks_per_node = std::max(1, ranks);
  m.nnodes = std::max(1, a.nnodes);
  m.kv_bytes_per_token =
      2LL * mc.num_layers * shard.kv_heads * mc.head_dim * engine::dtype_size(kv_dtype) * m.ranks_per_node;
  m.context_length = a.context_length.value_or(mc.max_position_embeddings);
  m.quant_name = mc.quant.quantized() ? mc.quant.name : "";
  m.head_dim = mc.head_dim;
  m.rotary_dim = mc.rope.rotary_dim;
  m.classifier = mc.num_labels > 0;
  return m;
}

int64_t planned_kv_tokens(int64_t free_bytes, const ServerArgs& a, int64_t kv_bytes_per_token) {
  if (kv_bytes_per_token <= 0) return 0;
  int64_t tokens =
      free_bytes > 0 ? int64_t(double(free_bytes) * a.mem_fraction_static / double(kv_bytes_per_token)) : 0;
  if (a.max_total_tokens) tokens = tokens > 0 ? std::min(tokens, *a.max_total_tokens) : *a.max_total_tokens;
  const int64_t page = std::max(1, a.page_size);
  return tokens / page * page;
}

FitResult check_model_fit(const ModelEstimate& m, const ServerArgs& a, const MemoryView& memory,
                          const std::vector<GpuInfo>& gpus) {
  FitResult r;
  r.entries.push_back({"Model", fmt::format("{} ({})", m.architecture, m.config_path)});
  r.entries.push_back({"Parameters", params_text(m.parameters)});
  r.entries.push_back({"Weights", fmt::format("{}, {} while loading, ≈{} serving{}", m.weight_format,
                                              format_bytes(m.load_bytes), format_bytes(m.serve_bytes),
                                              m.dummy ? " (dummy)" : "")});
  r.entries.push_back({"Context length", std::to_string(m.context_length)});
  if (a.device == "cuda")
    check_cuda(r, m, a, memory, gpus);
  else
    check_cpu(r, m, a, memory);
  return r;
}

}  // namespace sgl::server::check_env
