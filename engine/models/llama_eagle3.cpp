// LlamaForCausalLMEagle3's forward (SGLang models/llama_eagle3.py): the draft head's one decoder
// layer over [RMSNorm(embed) ⊕ RMSNorm(hidden)], its norm and the draft-vocabulary LM head.
// Weights and loading: engine/spec/eagle3_draft.cpp.
#include <cmath>

#include "engine/cpu/scratch.h"
#include "engine/spec/eagle3_weights.h"

namespace sgl::engine::spec {

namespace {
// Activations of one draft forward, reused by every forward on this thread (a round runs three):
// see engine/cpu/scratch.h. Every buffer is fully written before it is read.
struct DraftScratch {
  cpu::ScratchBuffer<float> emb, hn, cat, qkv, q, k, v, rope, attn, delta, normed, gate_up, act, sel;
};
thread_local DraftScratch scratch;
}  // namespace

Eagle3Draft::Output Eagle3Draft::forward(const ForwardBatch& batch, const float* hidden, int64_t width) {
  const auto& c = cfg_.model;
  const Weights& w = *w_;
  const int64_t t = batch.num_tokens(), h = c.hidden_size, d = c.head_dim;
  const int64_t hq = c.num_heads * d, hkv = c.num_kv_heads * d, qkv_n = hq + 2 * hkv;
  const auto eps = static_cast<float>(c.rms_norm_eps);
  auto buf = [t](cpu::ScratchBuffer<float>& b, int64_t width) {
    return b.get(static_cast<size_t>(t * width));
  };
  Output out;
  // The hidden input: target states (3·Ht) go through fc; the draft's own (H) are used as is. The
  // residual stream becomes the output's hidden states.
  std::vector<float>& residual = out.hidden;
  residual.resize(static_cast<size_t>(t * h));
  if (width == h) {
    std::copy(hidden, hidden + t * h, residual.begin());
  } else {
    cpu::linear(hidden, t, w.fc, nullptr, residual.data());
  }
  float* emb = buf(scratch.emb, h);
  float* hn = buf(scratch.hn, h);
  float* cat = buf(scratch.cat, 2 * h);
  cpu::embedding(w.embed.data(), compute_, h, batch.input_ids.data(), t, emb);
  cpu::rms_norm(emb, w.input_norm.data(), t, h, eps, emb);
  cpu::rms_norm(residual.data(), w.hidden_norm.data(), t, h, eps, hn);
  for (int64_t i = 0; i < t; ++i) {
    std::copy(emb + i * h, emb + (i + 1) * h, cat + i * 2 * h);
    std::copy(hn + i * h, hn + (i + 1) * h, cat + i * 2 * h + h);
  }
  float* qkv = buf(scratch.qkv, qkv_n);
  float* q = buf(scratch.q, hq);
  float* k = buf(scratch.k, hkv);
  float* v = buf(scratch.v, hkv);
  cpu::linear(cat, t, w.qkv, nullptr, qkv);
  for (int64_t i = 0; i < t; ++i) {
    const float* row = qkv + i * qkv_n;
    std::copy(row, row + hq, q + i * hq);
    std::copy(row + hq, row + hq + hkv, k + i * hkv);
    std::copy(row + hq + hkv, row + qkv_n, v + i * hkv);
  }
  float* cs = buf(scratch.rope, w.rope->table_width());
  w.rope->table(batch.positions.data(), t, cs);
  w.rope->apply(q, t, c.num_heads, d, cs);
  w.rope->apply(k, t, c.num_kv_heads, d, cs);
  cpu::KvLayer layer{k_.data(), v_.data(), compute_, num_slots_ + scratch_, c.num_kv_heads, c.head_dim};
  cpu::kv_store(batch, k, v, layer);
  float* attn = buf(scratch.attn, hq);
  float* delta = buf(scratch.delta, h);
  float* normed = buf(scratch.normed, h);
  cpu::paged_attention(batch, q, c.num_heads, layer, 1.0f / std::sqrt(static_cast<float>(d)), attn);
  cpu::linear(attn, t, w.o, nullptr, delta);
  cpu::add_rms_norm(delta, residual.data(), w.post_norm.data(), t, h, eps, normed);
  const int64_t inter = w.gate_up.n() / 2;
  float* gu = buf(scratch.gate_up, 2 * inter);
  float* act = buf(scratch.act, inter);
  cpu::linear(normed, t, w.gate_up, nullptr, gu);
  cpu::silu_mul(gu, t, inter, act);
  cpu::linear(act, t, w.down, nullptr, delta);
  for (int64_t i = 0; i < t * h; ++i) residual[i] += delta[i];
  const std::vector<int64_t> rows = batch.logit_token_indices();
  const auto r = static_cast<int64_t>(rows.size());
  float* sel = scratch.sel.get(static_cast<size_t>(std::max<int64_t>(r, 1) * h));
  for (int64_t i = 0; i < r; ++i)
    std::copy(residual.data() + rows[i] * h, residual.data() + (rows[i] + 1) * h, sel + i * h);
  cpu::rms_norm(sel, w.final_norm.data(), r, h, eps, sel);
  out.logits.resize(static_cast<size_t>(r * cfg_.draft_vocab_size));
  cpu::linear(sel, r, w.lm_head, nullptr, out.logits.data());
  return out;
}

}  // namespace sgl::engine::spec
