#include "engine/cuda/cuda_model_runner.h"

#include <fmt/format.h>

#include "engine/cpu/cpu_model_runner.h"
#include "engine/cpu/kernels.h"
#include "engine/step_input_checks.h"

namespace sgl::engine::cuda {

namespace {

Status put(DeviceBuffer& dst, const void* src, size_t bytes) {
  if (bytes == 0) return {};
  SGL_TRY(dst.reserve(bytes));
  SGL_CUDA_TRY(cudaMemcpy(dst.as(), src, bytes, cudaMemcpyHostToDevice));
  return {};
}

Status put_vec(DeviceBuffer& dst, const std::vector<float>& v) {
  return put(dst, v.data(), v.size() * sizeof(float));
}

// Uploads the rows as [N, K] of the weight's dtype (a copy when the CPU laid them out in lanes).
Status put_weight(DeviceBuffer& dst, const cpu::PackedWeight& w, DType want) {
  if (w.dtype() != want) return internal_error("CUDA upload: weight of an unexpected dtype");
  std::vector<uint16_t> scratch;
  return put(dst, w.row_major_data(scratch), static_cast<size_t>(w.bytes()));
}

}  // namespace

CudaModelRunner::CudaModelRunner(const EngineConfig& cfg, ModelConfig config, FamilyOptions options,
                                 ModelInfo info)
    : cfg_(cfg),
      config_(std::move(config)),
      options_(options),
      info_(std::move(info)),
      sampler_(cfg.random_seed) {
  sampler_.set_nan_detection(cfg.enable_nan_detection);  // the GPU's logits are sampled on the host
}

Result<std::unique_ptr<CudaModelRunner>> CudaModelRunner::create(const EngineConfig& cfg) {
  if (cfg.dtype != "auto" && cfg.dtype != "bfloat16")
    return unsupported(
        fmt::format("--device cuda runs in bfloat16 (--dtype auto or bfloat16), not {}", cfg.dtype));
  if (device_count() == 0) return unsupported("--device cuda: no CUDA device is visible to this process");
  // The model is described and loaded by the CPU backend's code, then uploaded.
  EngineConfig host_cfg = cfg;
  host_cfg.device = "cpu";
  host_cfg.dtype = "bfloat16";
  SGL_ASSIGN_OR_RETURN(auto host, cpu::create_cpu_runner(host_cfg, ShardPlan{}, nullptr));
  const DecoderModel& m = host->model();
  const ModelConfig& c = m.config();
  if (c.head_dim != 16 && c.head_dim != 32 && c.head_dim != 64 && c.head_dim != 128 && c.head_dim != 256)
    return unsupported(
        fmt::format("--device cuda: head_dim {} (supported: 16, 32, 64, 128, 256)", c.head_dim));
  if (c.rope.rotary_dim != 0 && c.rope.rotary_dim != c.head_dim)
    return unsupported("--device cuda: partial rotary embeddings are not supported");
  if (c.num_heads % c.num_kv_heads != 0)
    return unsupported("--device cuda: q heads not a multiple of kv heads");
  // Every family's other building blocks (sandwich norms, GeGLU, shared experts, soft-caps, sliding
  // windows, the xAI temperature, logn queries, multipliers, residual MoE) run on the GPU as on the
  // CPU (cuda_forward.cpp); norm offsets and norm_head are folded into the weights at load.
  if (cfg.kv_cache_dtype != "auto" && cfg.kv_cache_dtype != "bf16" && cfg.kv_cache_dtype != "bfloat16")
    return unsupported("--device cuda: --kv-cache-dtype " + cfg.kv_cache_dtype +
                       " runs on --device cpu only so far");
  if (c.quant.quantized())
    return unsupported(
        fmt::format("--device cuda: {} quantized weights run on --device cpu only so far", c.quant.name));
  if (c.num_labels > 0)
    return unsupported(
        "--device cuda: sequence-classification heads (*ForSequenceClassification) run on "
        "--device cpu only");
  ModelInfo info = host->info();
  if (info.dynamic_ntk_seq_length > 0 && info.context_length > info.dynamic_ntk_seq_length)
    return unsupported(fmt::format(
        "--device cuda: --context-length {} past Qwen's seq_length {} needs dynamic NTK RoPE, which the CUDA "
        "backend does not implement yet (serve at most {} tokens, or use --device cpu)",
        info.context_length, info.dynamic_ntk_seq_length, info.dynamic_ntk_seq_length));
  info.kv_bytes_per_token = 2LL * c.num_layers * c.num_kv_heads * c.head_dim * 2;  // bf16 K and V
  std::unique_ptr<CudaModelRunner> r(new CudaModelRunner(cfg, c, m.options(), std::move(info)));
  SGL_TRY(r->init_device());
  SGL_TRY(r->upload(m));
  bool any_moe = false;
  for (const Layer& l : r->layers_) any_moe |= l.moe;
  // MoE layers wait for their routing on the host, which a graph cannot: they run eagerly.
  r->graphs_enabled_ = !cfg.disable_cuda_graph && !any_moe;
  r->graph_max_bs_ = (std::max(cfg.cuda_graph_max_bs > 0 ? cfg.cuda_graph_max_bs : 256, 1) + 7) / 8 * 8;
  return r;
}

Status CudaModelRunner::init_device() {
  SGL_CUDA_TRY(cudaSetDevice(0));
  SGL_CUDA_TRY(cudaDeviceGetAttribute(&num_sms_, cudaDevAttrMultiProcessorCount, 0));
  SGL_TRY(stream_.create());
  SGL_TRY(gemm_.init(stream_.get()));
  return {};
}

Status CudaModelRunner::upload(const DecoderModel& m) {
  const ModelConfig& c = m.config();
  SGL_TRY(put(embed_, m.embed_weight().data(), static_cast<size_t>(m.embed_weight().bytes())));
  SGL_TRY(put_weight(lm_head_, m.lm_head_weight(), DType::kBF16));
  SGL_TRY(put_vec(final_norm_, m.final_norm_weight()));
  cpu::Rope rope(c.rope);
  const auto inv = rope.inv_freq();
  SGL_TRY(put(inv_freq_, inv.data(), inv.size() * sizeof(float)));
  const auto& src = m.layer_weights();
  layers_.resize(src.size());
  for (size_t l = 0; l < src.size(); ++l) {
    const LayerWeights& w = src[l];
    Layer& d = layers_[l];
    SGL_TRY(put_vec(d.input_norm, w.input_norm));
    SGL_TRY(put_vec(d.post_norm, w.post_norm));
    SGL_TRY(put_vec(d.q_norm, w.q_norm));
    SGL_TRY(put_vec(d.k_norm, w.k_norm));
    SGL_TRY(put_vec(d.qkv_bias, w.qkv_bias));
    SGL_TRY(put_vec(d.o_bias, w.o_bias));
    SGL_TRY(put_vec(d.attn_out_norm, w.attn_out_norm));
    SGL_TRY(put_vec(d.mlp_out_norm, w.mlp_out_norm));
    SGL_TRY(put_weight(d.qkv, w.qkv, DType::kBF16));
    SGL_TRY(put_weight(d.o, w.o, DType::kBF16));
    d.moe = w.moe;
    d.dense = w.dense;
    d.window = c.sliding_window_of(static_cast<int>(l));
    if (w.moe) {
      SGL_TRY(put_weight(d.router, w.router, DType::kF32));
      d.expert_gate_up.resize(w.expert_gate_up.size());
      d.expert_down.resize(w.expert_down.size());
      for (size_t e = 0; e < w.expert_gate_up.size(); ++e) {
        SGL_TRY(put_weight(d.expert_gate_up[e], w.expert_gate_up[e], DType::kBF16));
        SGL_TRY(put_weight(d.expert_down[e], w.expert_down[e], DType::kBF16));
      }
      d.expert_inter = w.expert_gate_up.empty() ? 0 : w.expert_gate_up[0].n() / 2;
      if (m.options().shared_expert != SharedExpert::kNone) {
        SGL_TRY(put_weight(d.shared_gate_up, w.shared_gate_up, DType::kBF16));
        SGL_TRY(put_weight(d.shared_down, w.shared_down, DType::kBF16));
        d.shared_inter = w.shared_gate_up.n() / 2;
      }
      // The gate stays fp32 as on the CPU: one logit per token, through a full-precision GEMM.
      if (m.options().shared_expert == SharedExpert::kSigmoidGated)
        SGL_TRY(put_weight(d.shared_gate, w.shared_gate, DType::kF32));
    }
    if (w.dense) {
      SGL_TRY(put_weight(d.gate_up, w.gate_up, DType::kBF16));
      SGL_TRY(put_weight(d.down, w.down, DType::kBF16));
      d.inter = w.gate_up.n() / 2;
    }
  }
  return {};
}

Status CudaModelRunner::init_kv_cache(int64_t num_slots, int page_size) {
  if (num_slots <= 0 || page_size <= 0)
    return invalid_argument("KV cache needs a positive size and page size");
  if (kv_slots_ > 0) return invalid_argument("KV cache already allocated");
  // One more slot than asked: the scratch slot that padding tokens of a graph-bucketed batch write.
  const size_t bytes = static_cast<size_t>(num_slots + 1) * config_.num_kv_heads * config_.head_dim * 2;
  std::vector<DeviceBuffer> k, v;
  for (int l = 0; l < config_.num_layers; ++l) {
    auto kb = DeviceBuffer::alloc(bytes);
    auto vb = DeviceBuffer::alloc(bytes);
    if (!kb.ok() || !vb.ok())
      return invalid_argument(fmt::format("KV cache of {} slots ({} bytes) does not fit in device memory",
                                          num_slots, num_slots * info_.kv_bytes_per_token));
    // Zeroed so that a stale slot never holds NaNs (masked keys still pass through the tile loads).
    SGL_CUDA_TRY(cudaMemset(kb->as(), 0, bytes));
    SGL_CUDA_TRY(cudaMemset(vb->as(), 0, bytes));
    k.push_back(std::move(*kb));
    v.push_back(std::move(*vb));
  }
  k_cache_ = std::move(k);
  v_cache_ = std::move(v);
  kv_slots_ = num_slots;
  return {};
}

Result<StepOutput> CudaModelRunner::step(const StepInput& input) {
  SGL_TRY(validate_step_input(input, info_, kv_slots_));
  if (input.batch.return_row_hidden)
    return unsupported(
        "--device cuda: return_hidden_states and embeddings are not implemented on the CUDA "
        "backend yet");
  if (input.batch.capture_routed_experts)
    return unsupported("--device cuda: return_routed_experts is not implemented on the CUDA backend yet");
  for (const Segment& s : input.batch.segments)
    if (s.input_embeds)
      return unsupported(
          "--device cuda: input_embeds (a prompt given as embeddings) is not implemented "
          "on the CUDA backend yet");
  SGL_ASSIGN_OR_RETURN(std::vector<int32_t> ids,
                       last_token_.resolve(input.batch.input_ids, info_.vocab_size));
  StepOutput out;
  out.vocab_size = info_.vocab_size;
  SGL_TRY(forward_in_groups(input, ids, out));
  last_token_.record(input.sampling, out.rows);
  return out;
}

// A large batch runs as consecutive forwards over groups of whole segments (requests are
// independent), so activations stay bounded by kMaxGroupTokens whatever the batch: a 256 × 1024
// prefill of an 8B model would otherwise need tens of GB of workspace beside the KV pool.
Status CudaModelRunner::forward_in_groups(const StepInput& in, const std::vector<int32_t>& ids,
                                          StepOutput& out) {
  constexpr int64_t kMaxGroupTokens = 16384;
  const ForwardBatch& b = in.batch;
  if (b.num_tokens() <= kMaxGroupTokens || b.segments.size() == 1) return forward(in, ids, out);
  size_t seg = 0;
  int64_t tok = 0, row = 0;
  while (seg < b.segments.size()) {
    StepInput g;
    g.return_logits = in.return_logits;
    g.batch.capture_hidden_layers = b.capture_hidden_layers;
    std::vector<int32_t> g_ids;
    int64_t g_tokens = 0;
    while (seg < b.segments.size() &&
           (g_tokens == 0 || g_tokens + b.segments[seg].new_len <= kMaxGroupTokens)) {
      Segment s = b.segments[seg++];
      const int64_t slots = s.prefix_len + s.new_len;
      g.batch.kv_slots.insert(g.batch.kv_slots.end(), b.kv_slots.begin() + s.slot_offset,
                              b.kv_slots.begin() + s.slot_offset + slots);
      s.slot_offset = static_cast<int64_t>(g.batch.kv_slots.size()) - slots;
      g_ids.insert(g_ids.end(), ids.begin() + tok, ids.begin() + tok + s.new_len);
      g.batch.input_ids.insert(g.batch.input_ids.end(), b.input_ids.begin() + tok,
                               b.input_ids.begin() + tok + s.new_len);
      g.batch.positions.insert(g.batch.positions.end(), b.positions.begin() + tok,
                               b.positions.begin() + tok + s.new_len);
      const int64_t rows = s.logits_start < 0 ? 0 : s.new_len - s.logits_start;
      g.sampling.insert(g.sampling.end(), in.sampling.begin() + row, in.sampling.begin() + row + rows);
      tok += s.new_len, row += rows, g_tokens += s.new_len;
      g.batch.segments.push_back(std::move(s));
    }
    StepOutput part;
    SGL_TRY(forward(g, g_ids, part));
    out.rows.insert(out.rows.end(), part.rows.begin(), part.rows.end());
    out.logits.insert(out.logits.end(), part.logits.begin(), part.logits.end());
    out.hidden_states.resize(part.hidden_states.size());
    for (size_t i = 0; i < part.hidden_states.size(); ++i)
      out.hidden_states[i].insert(out.hidden_states[i].end(), part.hidden_states[i].begin(),
                                  part.hidden_states[i].end());
  }
  return {};
}

Status CudaModelRunner::load_weights_from_disk(const std::string& model_path) {
  EngineConfig host_cfg = cfg_;
  host_cfg.device = "cpu";
  host_cfg.dtype = "bfloat16";
  host_cfg.model_path = model_path;
  host_cfg.load_format = "auto";
  SGL_ASSIGN_OR_RETURN(auto host, cpu::create_cpu_runner(host_cfg, ShardPlan{}, nullptr));
  const ModelConfig& c = host->model().config();
  const ModelConfig& cur = config_;
  if (c.architecture != cur.architecture || c.hidden_size != cur.hidden_size ||
      c.num_layers != cur.num_layers || c.num_heads != cur.num_heads || c.num_kv_heads != cur.num_kv_heads ||
      c.head_dim != cur.head_dim || c.vocab_size != cur.vocab_size ||
      c.intermediate_size != cur.intermediate_size || c.num_experts != cur.num_experts ||
      c.moe_intermediate_size != cur.moe_intermediate_size)
    return invalid_argument(fmt::format(
        "{}: model shape or architecture ({}) differs from the running model ({}); weights not updated",
        model_path, c.architecture, cur.architecture));
  SGL_CUDA_TRY(cudaStreamSynchronize(stream_.get()));
  return upload(host->model());  // same shapes: every buffer is reused in place
}

int64_t CudaModelRunner::available_memory_bytes() const {
  size_t free_b = 0, total_b = 0;
  if (cudaMemGetInfo(&free_b, &total_b) != cudaSuccess) return 0;
  return static_cast<int64_t>(free_b);
}

}  // namespace sgl::engine::cuda
