// CudaModelRunner::forward: one step over a ragged batch on the runner's stream. The host lays out
// the step's integer metadata in one pinned block (one upload); the only waits are for MoE routing
// (expert row lists) and the final copy of sampled ids or logits. Decode steps of up to
// cuda_graph_max_bs requests replay a CUDA graph captured per batch-size bucket: the batch is
// padded to the bucket with dummy tokens that write a scratch KV slot and whose rows are dropped.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/cuda/cuda_model_runner.h"
#include "engine/cuda/kernels.h"

namespace sgl::engine::cuda {

namespace {

bool needs_host_sampling(const StepInput& in) {
  if (in.return_logits) return true;
  for (const RowSampling& rs : in.sampling) {
    if (!rs.sample || rs.return_logprob || rs.top_logprobs_num > 0 || !rs.token_ids_logprob.empty())
      return true;
    const SamplingParams* p = rs.params;
    if (p == nullptr) continue;
    if (!p->greedy() || p->frequency_penalty != 0.0f || p->presence_penalty != 0.0f ||
        p->repetition_penalty != 1.0f || !p->logit_bias.empty())
      return true;
  }
  return false;
}

bool is_plain_decode(const ForwardBatch& b) {
  if (!b.capture_hidden_layers.empty()) return false;
  for (const auto& s : b.segments)
    if (s.new_len != 1 || s.logits_start != 0 || !s.tree_mask.empty()) return false;
  return true;
}

}  // namespace

CudaModelRunner::MetaLayout CudaModelRunner::MetaLayout::make(int64_t t, int64_t s, int64_t mask_bytes) {
  MetaLayout m{};
  int64_t at = 0;
  auto take = [&](int64_t n) {
    const int64_t o = at;
    at += (n + 3) / 4 * 4;  // 16-byte aligned arrays
    return o;
  };
  m.ids = take(t), m.positions = take(t), m.store_slot = take(t), m.kv_base = take(t), m.kv_len = take(t);
  m.prefix = take(t), m.mask_off = take(t), m.rows = take(t), m.mask = take((mask_bytes + 3) / 4);
  m.kv_slots = take(s);
  m.words = at;
  return m;
}

// Fills the pinned block for `t_pad` >= real tokens (padding: dummy tokens on the scratch slot).
CudaModelRunner::StepShape CudaModelRunner::fill_meta(const StepInput& in, const std::vector<int32_t>& ids,
                                                      const MetaLayout& ml, int64_t t_pad,
                                                      int32_t* hm) const {
  const ForwardBatch& b = in.batch;
  const int64_t t = b.num_tokens();
  StepShape sh;
  sh.tokens = t_pad;
  std::memcpy(hm + ml.ids, ids.data(), static_cast<size_t>(t) * 4);
  std::memcpy(hm + ml.positions, b.positions.data(), static_cast<size_t>(t) * 4);
  std::memcpy(hm + ml.kv_slots, b.kv_slots.data(), b.kv_slots.size() * 4);
  auto* mask_dst = reinterpret_cast<uint8_t*>(hm + ml.mask);
  int64_t tok = 0, row = 0, mask_at = 0;
  sh.rows_identity = b.num_logit_rows() == t;
  for (const auto& s : b.segments) {
    for (int32_t i = 0; i < s.new_len; ++i, ++tok) {
      hm[ml.store_slot + tok] = b.kv_slots[s.slot_offset + s.prefix_len + i];
      hm[ml.kv_base + tok] = static_cast<int32_t>(s.slot_offset);
      hm[ml.prefix + tok] = s.prefix_len;
      const bool tree = !s.tree_mask.empty();
      hm[ml.kv_len + tok] = s.prefix_len + (tree ? s.new_len : i + 1);
      hm[ml.mask_off + tok] = tree ? static_cast<int32_t>(mask_at + static_cast<int64_t>(i) * s.new_len) : -1;
      if (s.logits_start >= 0 && i >= s.logits_start) {
        sh.rows_identity = sh.rows_identity && row == tok;
        hm[ml.rows + row++] = static_cast<int32_t>(tok);
      }
    }
    if (!s.tree_mask.empty()) {
      std::memcpy(mask_dst + mask_at, s.tree_mask.data(), s.tree_mask.size());
      mask_at += static_cast<int64_t>(s.tree_mask.size());
    }
    sh.has_mask = sh.has_mask || !s.tree_mask.empty();
  }
  // Padding tokens: id 0 at position 0, one visible key — the scratch slot, listed after the batch's.
  const auto pad_entry = static_cast<int32_t>(b.kv_slots.size());
  if (t_pad > t) hm[ml.kv_slots + pad_entry] = static_cast<int32_t>(kv_slots_);
  for (int64_t p = t; p < t_pad; ++p) {
    hm[ml.ids + p] = 0, hm[ml.positions + p] = 0, hm[ml.store_slot + p] = static_cast<int32_t>(kv_slots_);
    hm[ml.kv_base + p] = pad_entry, hm[ml.kv_len + p] = 1, hm[ml.prefix + p] = 0, hm[ml.mask_off + p] = -1;
    hm[ml.rows + row++] = static_cast<int32_t>(p);
  }
  sh.rows = row;
  return sh;
}

Status CudaModelRunner::reserve_workspace(Workspace& w, int64_t t, int64_t r) const {
  const ModelConfig& c = config_;
  const int64_t h = c.hidden_size, d = c.head_dim, hq = c.num_heads, hkv = c.num_kv_heads;
  const int64_t qkv_n = (hq + 2 * hkv) * d;
  int64_t max_inter = 0;  // of the MLPs run through w.gu / w.act: dense and shared expert
  bool any_moe = false, any_extra = false, any_gate = false;
  for (const Layer& l : layers_) {
    max_inter = std::max({max_inter, l.inter, l.shared_inter});
    any_moe |= l.moe;
    any_extra |= l.moe && (l.dense || l.shared_inter > 0);
    any_gate |= l.shared_gate.bytes() > 0;
  }
  auto res = [](DeviceBuffer& b, int64_t bytes) {
    return b.reserve(static_cast<size_t>(std::max<int64_t>(bytes, 16)));
  };
  SGL_TRY(res(w.x, t * h * 4));
  SGL_TRY(res(w.normed, t * h * 2));
  if (any_moe) SGL_TRY(res(w.normed32, t * h * 4));
  SGL_TRY(res(w.qkv, t * qkv_n * 4));
  SGL_TRY(res(w.q, t * hq * d * 4));
  SGL_TRY(res(w.attn, t * hq * d * 2));
  SGL_TRY(res(w.delta, t * h * 4));
  SGL_TRY(res(w.gu, t * 2 * max_inter * 4));
  SGL_TRY(res(w.act, t * max_inter * 2));
  if (any_extra) SGL_TRY(res(w.extra, t * h * 4));
  if (any_gate) SGL_TRY(res(w.gate, t * 4));
  AttnParams ap;
  ap.tokens = t, ap.q_heads = static_cast<int>(hq), ap.kv_heads = static_cast<int>(hkv),
  ap.head_dim = static_cast<int>(d);
  int64_t attn_bytes = 0;  // fewer tokens may split keys more: the largest need up to t
  for (int64_t tt = 1; tt <= t; tt = tt < 4096 ? tt + 1 : t) {
    ap.tokens = tt;
    attn_bytes = std::max(attn_bytes, attention_workspace_bytes(ap, num_sms_));
  }
  SGL_TRY(res(w.attn_part, attn_bytes));
  SGL_TRY(res(w.sel, r * h * 2));
  SGL_TRY(res(w.logits, r * c.vocab_size * 4));
  SGL_TRY(res(w.ids, r * 4));
  SGL_TRY(res(w.logprob, r * 4));
  return {};
}

// The step's kernels, from the embedding to the logits (and greedy ids) of its rows.
Status CudaModelRunner::encode(const int32_t* dm, const MetaLayout& ml, const StepShape& sh, Workspace& w,
                               const std::vector<int>& capture_layers, StepOutput* out) {
  const ModelConfig& c = config_;
  cudaStream_t st = stream_.get();
  const int64_t t = sh.tokens, r = sh.rows, h = c.hidden_size, d = c.head_dim;
  const int hq = c.num_heads, hkv = c.num_kv_heads;
  const int64_t qkv_n = (hq + 2LL * hkv) * d, vocab = c.vocab_size;
  const auto eps = static_cast<float>(c.rms_norm_eps);
  SGL_TRY(reserve_workspace(w, t, r));
  AttnParams ap;
  ap.tokens = t, ap.q_heads = hq, ap.kv_heads = hkv, ap.head_dim = static_cast<int>(d);
  ap.scale = c.attn_scale > 0 ? static_cast<float>(c.attn_scale) : 1.0f / std::sqrt(static_cast<float>(d));
  ap.softcap = c.attn_softcap, ap.temperature_len = c.attn_temperature_len;
  ap.positions = dm + ml.positions;
  ap.kv_slots = dm + ml.kv_slots, ap.kv_base = dm + ml.kv_base, ap.kv_len = dm + ml.kv_len;
  ap.prefix = dm + ml.prefix;
  ap.mask_off = sh.has_mask ? dm + ml.mask_off : nullptr;
  ap.mask = reinterpret_cast<const uint8_t*>(dm + ml.mask);
  QkvParams qp;
  qp.tokens = t, qp.q_heads = hq, qp.kv_heads = hkv, qp.head_dim = static_cast<int>(d), qp.eps = eps;
  qp.inv_freq = inv_freq_.as<float>(), qp.positions = dm + ml.positions, qp.store_slot = dm + ml.store_slot;
  qp.logn_len = c.logn_seq_length;

  float* x = w.x.as<float>();
  uint16_t* normed = w.normed.as<uint16_t>();
  float* delta = w.delta.as<float>();
  if (out) out->hidden_states.resize(capture_layers.size());
  auto capture = [&](int layer) -> Status {
    for (size_t i = 0; i < capture_layers.size(); ++i) {
      if (capture_layers[i] != layer) continue;
      out->hidden_states[i].resize(static_cast<size_t>(t * h));
      SGL_CUDA_TRY(cudaMemcpyAsync(out->hidden_states[i].data(), x, t * h * 4, cudaMemcpyDeviceToHost, st));
    }
    return {};
  };

  embedding(embed_.as<uint16_t>(), h, dm + ml.ids, t, x, st);
  scale_inplace(x, t * h, c.embedding_scale, st);  // Gemma 2's √hidden, Grok's multiplier
  rms_norm(x, layers_[0].input_norm.as<float>(), t, h, eps, normed, nullptr, st);
  const int nl = c.num_layers;
  for (int l = 0; l < nl; ++l) {
    const Layer& lw = layers_[l];
    SGL_TRY(gemm_.bf16(normed, lw.qkv.as<uint16_t>(), w.qkv.as<float>(), t, qkv_n, h));
    ap.window = lw.window;
    qp.bias = lw.qkv_bias.as<float>(), qp.q_norm = lw.q_norm.as<float>(), qp.k_norm = lw.k_norm.as<float>();
    qkv_rope_store(w.qkv.as<float>(), qp, w.q.as<float>(), k_cache_[l].as<uint16_t>(),
                   v_cache_[l].as<uint16_t>(), st);
    paged_attention(w.q.as<float>(), k_cache_[l].as<uint16_t>(), v_cache_[l].as<uint16_t>(), ap,
                    w.attn.as<uint16_t>(), w.attn_part.as(), num_sms_, st);
    SGL_TRY(gemm_.bf16(w.attn.as<uint16_t>(), lw.o.as<uint16_t>(), delta, t, h, hq * d));
    const float* o_bias = lw.o_bias.as<float>();
    if (lw.attn_out_norm.bytes() > 0) {  // sandwich: the attention output (with its bias) is normed first
      rms_norm_inplace(delta, o_bias, lw.attn_out_norm.as<float>(), t, h, eps, st);
      o_bias = nullptr;
    }
    add_rms_norm(delta, o_bias, x, lw.post_norm.as<float>(), t, h, eps, normed,
                 lw.moe ? w.normed32.as<float>() : nullptr, st);
    SGL_TRY(ffn(lw, t, w));
    if (lw.mlp_out_norm.bytes() > 0)
      rms_norm_inplace(delta, nullptr, lw.mlp_out_norm.as<float>(), t, h, eps, st);
    // The residual add is fused into the next norm: the next layer's input norm, or the final norm.
    const float* next_norm = l + 1 < nl ? layers_[l + 1].input_norm.as<float>() : final_norm_.as<float>();
    add_rms_norm(delta, nullptr, x, next_norm, t, h, eps, normed, nullptr, st);
    if (out) SGL_TRY(capture(l));
  }
  if (r == 0) return {};
  const uint16_t* sel = normed;  // decode: every token is a logits row, already final-normed
  if (!sh.rows_identity) {
    gather_rms_norm(x, dm + ml.rows, r, final_norm_.as<float>(), h, eps, w.sel.as<uint16_t>(), st);
    sel = w.sel.as<uint16_t>();
  }
  SGL_TRY(gemm_.bf16(sel, lm_head_.as<uint16_t>(), w.logits.as<float>(), r, vocab, h));
  // Grok's output multiplier, then the final soft-cap (Gemma 2, Grok): before greedy and sampling.
  scale_inplace(w.logits.as<float>(), r * vocab, c.logit_scale, st);
  softcap_inplace(w.logits.as<float>(), r * vocab, c.final_softcap, st);
  argmax_logprob(w.logits.as<float>(), r, vocab, w.ids.as<int32_t>(), w.logprob.as<float>(), st);
  return {};
}

int64_t CudaModelRunner::graph_bucket(int64_t t) const {
  for (int64_t b : {1, 2, 4, 8})
    if (t <= b) return b;
  return (t + 7) / 8 * 8;
}

Status CudaModelRunner::forward(const StepInput& in, const std::vector<int32_t>& tok_ids, StepOutput& out) {
  const ForwardBatch& b = in.batch;
  cudaStream_t st = stream_.get();
  const int64_t t = b.num_tokens(), real_rows = b.num_logit_rows();
  const bool graph = graphs_enabled_ && is_plain_decode(b) && t <= graph_max_bs_;
  int64_t mask_bytes = 0;
  for (const auto& s : b.segments) mask_bytes += static_cast<int64_t>(s.tree_mask.size());
  const auto kv_entries = static_cast<int64_t>(b.kv_slots.size()) + 1;  // + the padding tokens' entry
  Workspace* w = &ws_;
  MetaLayout ml;
  StepShape sh;
  const int32_t* dm = nullptr;
  if (graph) {
    // Fixed addresses for every captured graph: the metadata block is laid out for the largest
    // bucket and re-made (dropping the graphs) only when the KV slot list outgrows it.
    if (kv_entries > graph_kv_capacity_) {
      graphs_.clear();
      graph_kv_capacity_ = std::max<int64_t>(2 * kv_entries, 1 << 16);
      graph_meta_.reset();
    }
    ml = MetaLayout::make(graph_max_bs_, graph_kv_capacity_, 0);
    SGL_TRY(graph_meta_.reserve(static_cast<size_t>(ml.words) * 4));
    if (!graph_ws_ready_) {
      SGL_TRY(reserve_workspace(graph_ws_, graph_max_bs_, graph_max_bs_));
      graph_ws_ready_ = true;
    }
    w = &graph_ws_;
    SGL_TRY(host_meta_.reserve(static_cast<size_t>(ml.words) * 4));
    sh = fill_meta(in, tok_ids, ml, graph_bucket(t), host_meta_.as<int32_t>());
    dm = graph_meta_.as<const int32_t>();
    // Two copies: the per-token arrays, and the used part of the KV slot list.
    SGL_CUDA_TRY(cudaMemcpyAsync(graph_meta_.as(), host_meta_.as(), static_cast<size_t>(ml.kv_slots) * 4,
                                 cudaMemcpyHostToDevice, st));
    SGL_CUDA_TRY(cudaMemcpyAsync(graph_meta_.as<int32_t>() + ml.kv_slots,
                                 host_meta_.as<int32_t>() + ml.kv_slots, static_cast<size_t>(kv_entries) * 4,
                                 cudaMemcpyHostToDevice, st));
    auto it = graphs_.find(sh.tokens);
    if (it != graphs_.end()) {
      SGL_CUDA_TRY(cudaGraphLaunch(it->second.exec, st));
    } else {
      // First step of this bucket: run it eagerly (cuBLAS sets itself up outside the capture), then
      // capture the same launches for the next steps.
      SGL_TRY(encode(dm, ml, sh, *w, {}, nullptr));
      SGL_TRY(capture_graph(dm, ml, sh));
    }
  } else {
    ml = MetaLayout::make(t, kv_entries, mask_bytes);
    SGL_TRY(host_meta_.reserve(static_cast<size_t>(ml.words) * 4));
    sh = fill_meta(in, tok_ids, ml, t, host_meta_.as<int32_t>());
    SGL_TRY(ws_.meta.reserve(static_cast<size_t>(ml.words) * 4));
    SGL_CUDA_TRY(cudaMemcpyAsync(ws_.meta.as(), host_meta_.as(), static_cast<size_t>(ml.words) * 4,
                                 cudaMemcpyHostToDevice, st));
    dm = ws_.meta.as<const int32_t>();
    SGL_TRY(encode(dm, ml, sh, ws_, b.capture_hidden_layers, &out));
  }

  const int64_t r = real_rows, vocab = config_.vocab_size;  // padded rows (graphs) come last: dropped
  if (r > 0 && needs_host_sampling(in)) {
    std::vector<float> logits(static_cast<size_t>(r * vocab));
    SGL_CUDA_TRY(cudaMemcpyAsync(logits.data(), w->logits.as(), r * vocab * 4, cudaMemcpyDeviceToHost, st));
    SGL_CUDA_TRY(cudaStreamSynchronize(st));
    if (in.return_logits) out.logits = logits;  // the sampler works in place on its copy
    out.rows = sampler_.sample(logits.data(), vocab, in.sampling);
    return {};
  }
  out.rows.resize(static_cast<size_t>(r));
  if (r > 0) {
    SGL_TRY(host_ids_.reserve(static_cast<size_t>(r) * 8));
    SGL_CUDA_TRY(cudaMemcpyAsync(host_ids_.as(), w->ids.as(), r * 4, cudaMemcpyDeviceToHost, st));
    SGL_CUDA_TRY(
        cudaMemcpyAsync(host_ids_.as<int32_t>() + r, w->logprob.as(), r * 4, cudaMemcpyDeviceToHost, st));
  }
  SGL_CUDA_TRY(cudaStreamSynchronize(st));
  SGL_CUDA_TRY(cudaGetLastError());
  for (int64_t i = 0; i < r; ++i) {
    out.rows[i].token = host_ids_.as<int32_t>()[i];
    std::memcpy(&out.rows[i].logprob, host_ids_.as<int32_t>() + r + i, 4);
  }
  return {};
}

Status CudaModelRunner::capture_graph(const int32_t* dm, const MetaLayout& ml, const StepShape& sh) {
  cudaStream_t st = stream_.get();
  SGL_CUDA_TRY(cudaStreamBeginCapture(st, cudaStreamCaptureModeThreadLocal));
  Status enc = encode(dm, ml, sh, graph_ws_, {}, nullptr);
  cudaGraph_t g = nullptr;
  const cudaError_t end = cudaStreamEndCapture(st, &g);
  if (!enc.ok()) {
    if (g) cudaGraphDestroy(g);
    return enc;
  }
  SGL_CUDA_TRY(end);
  GraphExec ge;
  const cudaError_t inst = cudaGraphInstantiate(&ge.exec, g, 0);
  cudaGraphDestroy(g);
  SGL_CUDA_TRY(inst);
  graphs_.emplace(sh.tokens, std::move(ge));
  return {};
}

CudaModelRunner::GraphExec::~GraphExec() {
  if (exec) cudaGraphExecDestroy(exec);
}

// Routing on the GPU, then one wait for the top-k ids: each expert runs two GEMMs on the rows routed
// to it, its outputs land in (token, slot) rows, and the combine sums every token's slots in order.
Status CudaModelRunner::moe(const Layer& lw, int64_t t, Workspace& w) {
  const ModelConfig& c = config_;
  cudaStream_t st = stream_.get();
  const int64_t h = c.hidden_size, inter = lw.expert_inter;
  const int e_count = c.num_experts, k = c.num_experts_per_tok;
  SGL_TRY(w.router.reserve(t * e_count * 4));
  SGL_TRY(w.topk_ids.reserve(t * k * 4));
  SGL_TRY(w.topk_w.reserve(t * k * 4));
  SGL_TRY(gemm_.f32(w.normed32.as<float>(), lw.router.as<float>(), w.router.as<float>(), t, e_count, h));
  softcap_inplace(w.router.as<float>(), t * e_count, c.router_softcap, st);  // Grok: 30·tanh(r/30)
  moe_topk_softmax(w.router.as<float>(), t, e_count, k, c.norm_topk_prob, w.topk_ids.as<int32_t>(),
                   w.topk_w.as<float>(), st);
  std::vector<int32_t> ids(static_cast<size_t>(t * k));
  SGL_CUDA_TRY(cudaMemcpyAsync(ids.data(), w.topk_ids.as(), t * k * 4, cudaMemcpyDeviceToHost, st));
  SGL_CUDA_TRY(cudaStreamSynchronize(st));
  // Row lists per expert, concatenated: [token rows of expert 0 | ... ] then [slot rows ...].
  std::vector<std::vector<int32_t>> per(static_cast<size_t>(e_count));
  for (int64_t i = 0; i < t * k; ++i) per[static_cast<size_t>(ids[i])].push_back(static_cast<int32_t>(i));
  std::vector<int32_t> rows;
  rows.reserve(static_cast<size_t>(2 * t * k));
  for (const auto& p : per)
    for (int32_t i : p) rows.push_back(i / k);
  for (const auto& p : per) rows.insert(rows.end(), p.begin(), p.end());
  SGL_TRY(w.ex_rows.reserve(rows.size() * 4));
  SGL_CUDA_TRY(cudaMemcpyAsync(w.ex_rows.as(), rows.data(), rows.size() * 4, cudaMemcpyHostToDevice, st));
  SGL_TRY(w.slot_out.reserve(t * k * h * 4));
  SGL_TRY(w.ex_x.reserve(t * k * h * 2));
  SGL_TRY(w.ex_gu.reserve(t * k * 2 * inter * 4));
  SGL_TRY(w.ex_act.reserve(t * k * inter * 2));
  SGL_TRY(w.ex_y.reserve(t * k * h * 4));
  const int32_t* token_rows = w.ex_rows.as<int32_t>();
  const int32_t* slot_rows = token_rows + t * k;
  gather_rows_bf16(w.normed32.as<float>(), token_rows, t * k, h, w.ex_x.as<uint16_t>(), st);
  int64_t at = 0;
  for (int e = 0; e < e_count; ++e) {
    const auto n = static_cast<int64_t>(per[e].size());
    if (n == 0) continue;
    SGL_TRY(gemm_.bf16(w.ex_x.as<uint16_t>() + at * h, lw.expert_gate_up[e].as<uint16_t>(),
                       w.ex_gu.as<float>() + at * 2 * inter, n, 2 * inter, h));
    at += n;
  }
  activation_mul(w.ex_gu.as<float>(), t * k, inter, w.ex_act.as<uint16_t>());
  at = 0;
  for (int e = 0; e < e_count; ++e) {
    const auto n = static_cast<int64_t>(per[e].size());
    if (n == 0) continue;
    SGL_TRY(gemm_.bf16(w.ex_act.as<uint16_t>() + at * inter, lw.expert_down[e].as<uint16_t>(),
                       w.ex_y.as<float>() + at * h, n, h, inter));
    at += n;
  }
  scatter_rows(w.ex_y.as<float>(), slot_rows, t * k, h, w.slot_out.as<float>(), st);
  moe_combine(w.slot_out.as<float>(), w.topk_w.as<float>(), t, k, h, w.delta.as<float>(), st);
  return {};
}

void CudaModelRunner::activation_mul(const float* gu, int64_t m, int64_t inter, uint16_t* out) const {
  if (options_.activation == Activation::kGeluTanh) {
    gelu_tanh_mul(gu, m, inter, out, stream_.get());
  } else {
    silu_mul(gu, m, inter, out, stream_.get());
  }
}

Status CudaModelRunner::gated_mlp(const uint16_t* x, int64_t t, const DeviceBuffer& gate_up,
                                  const DeviceBuffer& down, int64_t inter, float* out, Workspace& w) {
  const int64_t h = config_.hidden_size;
  SGL_TRY(gemm_.bf16(x, gate_up.as<uint16_t>(), w.gu.as<float>(), t, 2 * inter, h));
  activation_mul(w.gu.as<float>(), t, inter, w.act.as<uint16_t>());
  return gemm_.bf16(w.act.as<uint16_t>(), down.as<uint16_t>(), out, t, h, inter);
}

// As DecoderModel::ffn_block: dense; or the experts, plus the shared expert, then with Grok's
// residual MoE (dense + experts)/√2 — in that order, so the sums round as on the CPU.
Status CudaModelRunner::ffn(const Layer& lw, int64_t t, Workspace& w) {
  const uint16_t* normed = w.normed.as<uint16_t>();
  float* delta = w.delta.as<float>();
  if (!lw.moe) return gated_mlp(normed, t, lw.gate_up, lw.down, lw.inter, delta, w);
  cudaStream_t st = stream_.get();
  const int64_t h = config_.hidden_size;
  SGL_TRY(moe(lw, t, w));
  if (lw.shared_inter > 0) {
    SGL_TRY(gated_mlp(normed, t, lw.shared_gate_up, lw.shared_down, lw.shared_inter, w.extra.as<float>(), w));
    const float* gate = nullptr;  // Bailing: added as is
    if (lw.shared_gate.bytes() > 0) {
      // Qwen2-MoE: sigmoid(x·w_g) per token, x the fp32 normed rows as the CPU takes them.
      SGL_TRY(gemm_.f32(w.normed32.as<float>(), lw.shared_gate.as<float>(), w.gate.as<float>(), t, 1, h));
      gate = w.gate.as<float>();
    }
    gated_accumulate(w.extra.as<float>(), gate, t, h, delta, st);
  }
  if (lw.dense) {
    SGL_TRY(gated_mlp(normed, t, lw.gate_up, lw.down, lw.inter, w.extra.as<float>(), w));
    residual_moe_combine(w.extra.as<float>(), t * h, delta, st);
  }
  return {};
}

}  // namespace sgl::engine::cuda
