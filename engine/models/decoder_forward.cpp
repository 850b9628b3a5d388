// DecoderModel::forward: one step over a ragged batch. Activations are fp32 [tokens, features].
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>

#include "base/trace.h"
#include "engine/cpu/scratch.h"
#include "engine/dist/communicator.h"
#include "engine/models/decoder.h"

namespace sgl::engine {

// One set per model, reused by every layer and step: see engine/cpu/scratch.h.
struct DecoderModel::ForwardScratch {
  cpu::ScratchBuffer<float> x, normed, delta, qkv, q, k, v, attn, gate_up, act, rope, extra;
};

DecoderModel::ForwardScratch& DecoderModel::scratch() const {
  if (!scratch_) scratch_ = std::make_shared<ForwardScratch>();
  return *scratch_;
}

void DecoderModel::attention_block(int l, const ForwardBatch& batch, const float* normed, int64_t t,
                                   KvPool& kv, const float* rope_cs, float* out) const {
  const auto& c = config_;
  const LayerWeights& w = layers_[l];
  // This rank's heads (all of them on a whole model); the o projection's partial sums are all-reduced
  // by the caller.
  const int q_heads = shard_.q_heads, kv_heads = shard_.kv_heads;
  const int64_t d = c.head_dim, hq = q_heads * d, hkv = kv_heads * d, qkv_n = hq + 2 * hkv;
  float* qkv = scratch().qkv.get(static_cast<size_t>(t * qkv_n));
  cpu::linear(normed, t, w.qkv, w.qkv_bias.empty() ? nullptr : w.qkv_bias.data(), qkv);
  lora_.add(LoraSlots::Group::kQkv, l, batch, normed, c.hidden_size, qkv, qkv_n);
  float* q = scratch().q.get(static_cast<size_t>(t * hq));
  float* k = scratch().k.get(static_cast<size_t>(t * hkv));
  float* v = scratch().v.get(static_cast<size_t>(t * hkv));
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, t, 16), [&](const tbb::blocked_range<int64_t>& r) {
    for (int64_t i = r.begin(); i < r.end(); ++i) {
      const float* row = qkv + i * qkv_n;
      std::copy(row, row + hq, q + i * hq);
      std::copy(row + hq, row + hq + hkv, k + i * hkv);
      std::copy(row + hq + hkv, row + qkv_n, v + i * hkv);
    }
  });
  if (options_.qk_norm) {  // per head, before RoPE (Qwen3)
    cpu::rms_norm(q, w.q_norm.data(), t * q_heads, d, static_cast<float>(c.rms_norm_eps), q);
    cpu::rms_norm(k, w.k_norm.data(), t * kv_heads, d, static_cast<float>(c.rms_norm_eps), k);
  }
  rope_.apply(q, t, q_heads, d, rope_cs);
  rope_.apply(k, t, kv_heads, d, rope_cs);
  if (c.logn_seq_length > 0) {
    // Qwen v1's logn attention: queries past the trained length are scaled up by
    // ln(p + 1)/ln(seq_length) (HF applies it only while the KV exceeds seq_length, which is the
    // same thing: p + 1 > seq_length).
    const double base = std::log(static_cast<double>(c.logn_seq_length));
    for (int64_t i = 0; i < t; ++i) {
      const int64_t p1 = static_cast<int64_t>(batch.positions[i]) + 1;
      if (p1 > c.logn_seq_length)
        cpu::scale(q + i * hq, hq, static_cast<float>(std::log(static_cast<double>(p1)) / base));
    }
  }
  cpu::KvLayer layer = kv.layer(c, l);
  cpu::kv_store(batch, k, v, layer);
  float* attn = scratch().attn.get(static_cast<size_t>(t * hq));
  cpu::AttentionOptions ao;
  ao.scale = c.attn_scale > 0 ? static_cast<float>(c.attn_scale) : 1.0f / std::sqrt(static_cast<float>(d));
  ao.softcap = c.attn_softcap;
  ao.temperature_len = c.attn_temperature_len;
  ao.window = c.sliding_window_of(l);
  cpu::paged_attention(batch, q, q_heads, layer, ao, attn);
  // The bias belongs to the sum: only rank 0 adds it.
  const bool bias = !w.o_bias.empty() && shard_.tp_rank == 0;
  cpu::linear(attn, t, w.o, bias ? w.o_bias.data() : nullptr, out);
  lora_.add(LoraSlots::Group::kO, l, batch, attn, hq, out, c.hidden_size);
}

void DecoderModel::gated_mlp(const ForwardBatch& batch, const float* x, int64_t t,
                             const cpu::PackedWeight& gate_up, const cpu::PackedWeight& down, float* out,
                             int lora_layer) const {
  const int64_t inter = gate_up.n() / 2;
  float* gu = scratch().gate_up.get(static_cast<size_t>(t * 2 * inter));
  float* act = scratch().act.get(static_cast<size_t>(t * inter));
  cpu::linear(x, t, gate_up, nullptr, gu);
  if (lora_layer >= 0)
    lora_.add(LoraSlots::Group::kGateUp, lora_layer, batch, x, config_.hidden_size, gu, 2 * inter);
  if (options_.activation == Activation::kGeluTanh) {
    cpu::gelu_tanh_mul(gu, t, inter, act);
  } else {
    cpu::silu_mul(gu, t, inter, act);
  }
  cpu::linear(act, t, down, nullptr, out);
  if (lora_layer >= 0)
    lora_.add(LoraSlots::Group::kDown, lora_layer, batch, act, inter, out, config_.hidden_size);
}

void DecoderModel::ffn_block(int l, const ForwardBatch& batch, const float* normed, int64_t t, float* out,
                             int32_t* routed) const {
  const LayerWeights& w = layers_[l];
  if (!w.moe) {
    gated_mlp(batch, normed, t, w.gate_up, w.down, out, l);
    return;
  }
  moe_block(l, normed, t, out, routed);
  if (options_.shared_expert != SharedExpert::kNone) shared_expert(l, batch, normed, t, out);
  if (w.dense) {  // Grok's residual MoE: (mlp(x) + moe(x)) / √2
    const int64_t n = t * config_.hidden_size;
    float* dense = scratch().extra.get(static_cast<size_t>(n));
    gated_mlp(batch, normed, t, w.gate_up, w.down, dense, l);
    const float inv_sqrt2 = static_cast<float>(1.0 / std::sqrt(2.0));
    for (int64_t i = 0; i < n; ++i) out[i] = (dense[i] + out[i]) * inv_sqrt2;
  }
}

void DecoderModel::shared_expert(int l, const ForwardBatch& batch, const float* normed, int64_t t,
                                 float* out) const {
  const LayerWeights& w = layers_[l];
  const int64_t h = config_.hidden_size;
  float* y = scratch().extra.get(static_cast<size_t>(t * h));
  gated_mlp(batch, normed, t, w.shared_gate_up, w.shared_down, y);
  // Qwen2-MoE scales the shared expert per token by sigmoid(x·w_g) (each tensor-parallel rank
  // computes the same gate from the whole x and scales its partial sum); Bailing adds it as is.
  std::vector<float> gate(static_cast<size_t>(t), 1.0f);
  if (options_.shared_expert == SharedExpert::kSigmoidGated) {
    cpu::linear(normed, t, w.shared_gate, nullptr, gate.data());
    for (auto& g : gate) g = 1.0f / (1.0f + std::exp(-g));
  }
  for (int64_t i = 0; i < t; ++i)
    for (int64_t j = 0; j < h; ++j) out[i * h + j] += gate[i] * y[i * h + j];
}

void DecoderModel::moe_block(int l, const float* normed, int64_t t, float* out, int32_t* routed) const {
  const auto& c = config_;
  const LayerWeights& w = layers_[l];
  // This rank's experts [expert0, expert0 + experts), each its slice of the intermediate columns;
  // tokens are replicated on every rank, so dispatch is a local selection and the combine is the
  // block's all-reduce (done by the caller).
  const int64_t h = c.hidden_size, inter = shard_.moe_inter;
  const int k = c.num_experts_per_tok;
  std::vector<float> logits(static_cast<size_t>(t * c.num_experts));
  cpu::linear(normed, t, w.router, nullptr, logits.data());
  cpu::softcap(logits.data(), t * c.num_experts, c.router_softcap);  // Grok: 30·tanh(r/30)
  std::vector<int32_t> ids(static_cast<size_t>(t * k));
  std::vector<float> weights(static_cast<size_t>(t * k));
  cpu::moe_topk_softmax(logits.data(), t, c.num_experts, k, c.norm_topk_prob, ids.data(), weights.data());
  if (routed) {
    const int64_t stride = static_cast<int64_t>(c.num_layers) * k;
    for (int64_t i = 0; i < t; ++i) std::copy_n(ids.data() + i * k, k, routed + i * stride);
  }
  // Each expert runs on the rows routed to it; its outputs land in (token, slot) so every token sums
  // its experts in slot order — independent of which other tokens share the batch.
  std::vector<float> slot_out(static_cast<size_t>(t * k * h));
  std::vector<uint8_t> routed_here(static_cast<size_t>(t * k), 0);
  for (int le = 0; le < shard_.experts; ++le) {
    const int e = shard_.expert0 + le;
    std::vector<int64_t> rows;
    for (int64_t i = 0; i < t * k; ++i)
      if (ids[i] == e) rows.push_back(i), routed_here[i] = 1;
    if (rows.empty()) continue;
    const auto n = static_cast<int64_t>(rows.size());
    std::vector<float> x(static_cast<size_t>(n * h)), gu(static_cast<size_t>(n * 2 * inter)),
        act(static_cast<size_t>(n * inter)), y(static_cast<size_t>(n * h));
    for (int64_t r = 0; r < n; ++r)
      std::copy(normed + rows[r] / k * h, normed + (rows[r] / k + 1) * h, x.data() + r * h);
    cpu::linear(x.data(), n, w.expert_gate_up[le], nullptr, gu.data());
    if (options_.activation == Activation::kGeluTanh) {
      cpu::gelu_tanh_mul(gu.data(), n, inter, act.data());
    } else {
      cpu::silu_mul(gu.data(), n, inter, act.data());
    }
    cpu::linear(act.data(), n, w.expert_down[le], nullptr, y.data());
    for (int64_t r = 0; r < n; ++r)
      std::copy(y.data() + r * h, y.data() + (r + 1) * h, slot_out.data() + rows[r] * h);
  }
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, t, 8), [&](const tbb::blocked_range<int64_t>& r) {
    for (int64_t i = r.begin(); i < r.end(); ++i) {
      float* o = out + i * h;
      std::fill(o, o + h, 0.0f);
      for (int s = 0; s < k; ++s) {
        if (!routed_here[i * k + s]) continue;  // another rank's expert (never on a whole model)
        const float wt = weights[i * k + s];
        const float* so = slot_out.data() + (i * k + s) * h;
        for (int64_t j = 0; j < h; ++j) o[j] += wt * so[j];
      }
    }
  });
}

namespace {
// Segment::input_embeds: the rows of a prompt given as embeddings replace the looked-up ones.
void overwrite_input_embeds(const ForwardBatch& batch, int64_t h, float* x) {
  int64_t tok = 0;
  for (const Segment& s : batch.segments) {
    if (s.input_embeds) {
      const auto rows = static_cast<int64_t>(s.input_embeds->size()) / h;
      for (int64_t i = 0; i < s.new_len; ++i) {
        const int64_t row = s.prefix_len + i - s.input_embeds_start;
        if (row >= 0 && row < rows) std::copy_n(s.input_embeds->data() + row * h, h, x + (tok + i) * h);
      }
    }
    tok += s.new_len;
  }
}
}  // namespace

DecoderModel::Output DecoderModel::forward(const ForwardBatch& batch, const std::vector<int32_t>& ids,
                                           KvPool& kv, std::vector<float> logits_storage) const {
  const auto& c = config_;
  const int64_t t = static_cast<int64_t>(ids.size()), h = c.hidden_size;
  const auto eps = static_cast<float>(c.rms_norm_eps);
  Output out;
  out.logits = std::move(logits_storage);
  const std::vector<int>& capture = batch.capture_hidden_layers;
  out.hidden_states.resize(capture.size());
  const auto th = static_cast<size_t>(t * h);
  float* x = scratch().x.get(th);  // every buffer is fully written before it is read
  float* normed = scratch().normed.get(th);
  float* delta = scratch().delta.get(th);
  embed(ids, x, out.status);
  overwrite_input_embeds(batch, h, x);
  cpu::scale(x, t * h, c.embedding_scale);
  // cos/sin of the batch's positions, computed once for every layer's q and k.
  float* rope_cs = scratch().rope.get(static_cast<size_t>(t * rope_.table_width()));
  rope_.table(batch.positions.data(), t, rope_cs);
  rebase_rope_for_ntk(batch, rope_cs);
  // --enable-precision-tracer: per-request statistics at SGLang-JAX's record points.
  std::vector<int64_t> seg_tokens;
  if (batch.trace_precision)
    for (const Segment& s : batch.segments) seg_tokens.push_back(s.new_len);
  auto record = [&](const float* a, const char* name, const char* module, int layer) {
    if (batch.trace_precision) append_segment_stats(a, h, seg_tokens, name, module, layer, out.tensor_stats);
  };
  const int topk = c.num_experts_per_tok;
  if (batch.capture_routed_experts && options_.moe && topk > 0)
    out.routed_experts.assign(static_cast<size_t>(t * c.num_layers * topk), -1);
  for (int l = 0; l < c.num_layers; ++l) {
    const LayerWeights& w = layers_[l];
    cpu::rms_norm(x, w.input_norm.data(), t, h, eps, normed);
    record(normed, "input_layernorm_output", "INPUT_LAYERNORM", l);
    {
      trace::Span span("kernel", "attention");
      span.set_args([&] { return trace::Args().add("layer", l).add("tokens", t); });
      attention_block(l, batch, normed, t, kv, rope_cs, delta);
    }
    all_reduce(delta, t * h, out.status);
    record(delta, "self_attn_output", "SELF_ATTN", l);
    // Sandwich norms (Gemma 2, Grok) norm each block's output before it joins the residual.
    if (!w.attn_out_norm.empty()) cpu::rms_norm(delta, w.attn_out_norm.data(), t, h, eps, delta);
    cpu::add_rms_norm(delta, x, w.post_norm.data(), t, h, eps, normed);
    {
      trace::Span span("kernel", w.moe ? "moe" : "mlp");
      span.set_args([&] { return trace::Args().add("layer", l).add("tokens", t); });
      ffn_block(
          l, batch, normed, t, delta,
          out.routed_experts.empty() ? nullptr : out.routed_experts.data() + static_cast<int64_t>(l) * topk);
    }
    all_reduce(delta, t * h, out.status);
    record(delta, "mlp_output", "MLP", l);
    if (!w.mlp_out_norm.empty()) cpu::rms_norm(delta, w.mlp_out_norm.data(), t, h, eps, delta);
    for (int64_t i = 0; i < t * h; ++i) x[i] += delta[i];
    // hidden_states[i] belongs to capture_hidden_layers[i], whatever order (or repeats) it lists.
    for (size_t i = 0; i < capture.size(); ++i)
      if (capture[i] == l) out.hidden_states[i].assign(x, x + th);
  }
  // The final norm over every token (the LM head below takes only the logits rows), once, when
  // the precision tracer or a segment wanting all its tokens' states (a prompt's, for SGLang's
  // return_hidden_states) needs it.
  const bool all_hidden = std::any_of(batch.segments.begin(), batch.segments.end(),
                                      [](const Segment& s) { return s.return_all_hidden; });
  if (batch.trace_precision || all_hidden) {
    float* all = scratch().extra.get(th);
    cpu::rms_norm(x, final_norm_.data(), t, h, eps, all);
    record(all, "transformer_output", "TRANSFORMER", -1);
    int64_t tok = 0;
    for (size_t s = 0; s < batch.segments.size(); ++s) {
      const Segment& seg = batch.segments[s];
      if (seg.return_all_hidden)
        out.segment_hidden.emplace_back(static_cast<int32_t>(s),
                                        std::vector<float>(all + tok * h, all + (tok + seg.new_len) * h));
      tok += seg.new_len;
    }
  }
  // Only the rows whose logits were asked for go through the final norm and the LM head.
  const std::vector<int64_t> rows = batch.logit_token_indices();
  const auto r = static_cast<int64_t>(rows.size());
  std::vector<float> sel(static_cast<size_t>(r * h));
  for (int64_t i = 0; i < r; ++i) std::copy(x + rows[i] * h, x + (rows[i] + 1) * h, sel.data() + i * h);
  cpu::rms_norm(sel.data(), final_norm_.data(), r, h, eps, sel.data());
  const int64_t width = c.logits_width();
  if (batch.return_row_hidden && c.num_labels == 0) out.row_hidden = sel;
  out.logits.resize(static_cast<size_t>(r * width));
  trace::Span span("kernel", "lm_head");
  span.set_args([&] { return trace::Args().add("rows", r).add("width", width); });
  lm_head(sel.data(), r, out.logits.data(), out.status);
  cpu::scale(out.logits.data(), r * width, c.logit_scale);
  cpu::softcap(out.logits.data(), r * width, c.final_softcap);
  // A classifier's pooled output is its score head's logits (what SGLang answers as the
  // "embedding" of a sequence-classification model), not the hidden state.
  if (batch.return_row_hidden && c.num_labels > 0) out.row_hidden = out.logits;
  return out;
}

void DecoderModel::rebase_rope_for_ntk(const ForwardBatch& batch, float* rope_cs) const {
  int64_t tok = 0;
  for (const Segment& seg : batch.segments) {
    if (seg.ntk_alpha > 1) {
      // Qwen v1's dynamic NTK: base·α^(d/(d−2)) over the rotary dims, for this request's tokens.
      cpu::RopeConfig rc = config_.rope;
      const auto d = static_cast<double>(rc.rotary_dim);
      rc.theta *= std::pow(static_cast<double>(seg.ntk_alpha), d / (d - 2));
      cpu::Rope(rc).table(batch.positions.data() + tok, seg.new_len, rope_cs + tok * rope_.table_width());
    }
    tok += seg.new_len;
  }
}

void DecoderModel::all_reduce(float* data, int64_t n, Status& st) const {
  if (comm_ == nullptr || !st.ok()) return;
  if (auto s = comm_->all_reduce_sum(data, static_cast<size_t>(n)); !s.ok()) st = std::move(s);
}

void DecoderModel::embed(const std::vector<int32_t>& ids, float* x, Status& st) const {
  const int64_t t = static_cast<int64_t>(ids.size()), h = config_.hidden_size;
  if (comm_ == nullptr) {
    cpu::embedding(embed_.data(), compute_, h, ids.data(), t, x);
    return;
  }
  // Vocabulary-parallel: each rank looks up the ids in its range, zeros elsewhere; the all-reduce
  // adds exactly one non-zero row per token, so the result equals the whole table's bitwise.
  std::vector<int32_t> local(ids.size());
  for (int64_t i = 0; i < t; ++i) {
    const int64_t id = ids[i] - shard_.vocab0;
    local[i] = id >= 0 && id < shard_.vocab ? static_cast<int32_t>(id) : -1;
  }
  std::vector<int32_t> safe(local);
  for (auto& id : safe) id = std::max(id, 0);
  if (shard_.vocab > 0) cpu::embedding(embed_.data(), compute_, h, safe.data(), t, x);
  for (int64_t i = 0; i < t; ++i)
    if (local[i] < 0) std::fill(x + i * h, x + (i + 1) * h, 0.0f);
  all_reduce(x, t * h, st);
}

void DecoderModel::lm_head(const float* normed, int64_t rows, float* logits, Status& st) const {
  if (comm_ == nullptr || config_.num_labels > 0) {  // a score head is whole on every rank
    cpu::linear(normed, rows, lm_head_, nullptr, logits);
    return;
  }
  // Vocabulary-parallel LM head: each rank's [rows, V/tp] block, gathered rank after rank, then
  // interleaved into full rows.
  const int64_t v = config_.vocab_size;
  std::vector<float> mine(static_cast<size_t>(rows * shard_.vocab));
  if (rows > 0 && shard_.vocab > 0) cpu::linear(normed, rows, lm_head_, nullptr, mine.data());
  if (!st.ok() || rows == 0) return;  // every rank has the same rows: all skip together
  std::vector<size_t> counts(static_cast<size_t>(shard_.tp_size));
  for (int r = 0; r < shard_.tp_size; ++r) counts[r] = static_cast<size_t>(rows * shard_.vocab_of(r, v));
  std::vector<float> all(static_cast<size_t>(rows * v));
  if (auto s = comm_->all_gatherv(mine.data(), counts, all.data()); !s.ok()) {
    st = std::move(s);
    return;
  }
  int64_t off = 0;
  for (int r = 0; r < shard_.tp_size; ++r) {
    const int64_t vr = shard_.vocab_of(r, v), v0 = std::min(v, r * shard_.vocab_per_rank);
    for (int64_t i = 0; i < rows; ++i)
      std::copy(all.data() + off + i * vr, all.data() + off + (i + 1) * vr, logits + i * v + v0);
    off += rows * vr;
  }
}

}  // namespace sgl::engine
