// LlamaForCausalLMEagle3's forward (SGLang models/llama_eagle3.py): the draft head's one decoder
// layer over [RMSNorm(embed) ⊕ RMSNorm(hidden)], its norm and the draft-vocabulary LM head.
// Weights and loading: engine/spec/eagle3_draft.cpp.
#include <cmath>

#include "engine/spec/eagle3_weights.h"

namespace sgl::engine::spec {

Eagle3Draft::Output Eagle3Draft::forward(const ForwardBatch& batch, const float* hidden, int64_t width) {
  const auto& c = cfg_.model;
  const Weights& w = *w_;
  const int64_t t = batch.num_tokens(), h = c.hidden_size, d = c.head_dim;
  const int64_t hq = c.num_heads * d, hkv = c.num_kv_heads * d, qkv_n = hq + 2 * hkv;
  const auto eps = static_cast<float>(c.rms_norm_eps);
  Output out;
  // The hidden input: target states (3·Ht) go through fc; the draft's own (H) are used as is.
  std::vector<float> residual(static_cast<size_t>(t * h));
  if (width == h) {
    std::copy(hidden, hidden + t * h, residual.begin());
  } else {
    cpu::linear(hidden, t, w.fc, nullptr, residual.data());
  }
  std::vector<float> emb(static_cast<size_t>(t * h)), cat(static_cast<size_t>(t * 2 * h));
  cpu::embedding(w.embed.data(), compute_, h, batch.input_ids.data(), t, emb.data());
  cpu::rms_norm(emb.data(), w.input_norm.data(), t, h, eps, emb.data());
  std::vector<float> hn(static_cast<size_t>(t * h));
  cpu::rms_norm(residual.data(), w.hidden_norm.data(), t, h, eps, hn.data());
  for (int64_t i = 0; i < t; ++i) {
    std::copy(emb.data() + i * h, emb.data() + (i + 1) * h, cat.data() + i * 2 * h);
    std::copy(hn.data() + i * h, hn.data() + (i + 1) * h, cat.data() + i * 2 * h + h);
  }
  std::vector<float> qkv(static_cast<size_t>(t * qkv_n)), q(static_cast<size_t>(t * hq)),
      k(static_cast<size_t>(t * hkv)), v(static_cast<size_t>(t * hkv));
  cpu::linear(cat.data(), t, w.qkv, nullptr, qkv.data());
  for (int64_t i = 0; i < t; ++i) {
    const float* row = qkv.data() + i * qkv_n;
    std::copy(row, row + hq, q.data() + i * hq);
    std::copy(row + hq, row + hq + hkv, k.data() + i * hkv);
    std::copy(row + hq + hkv, row + qkv_n, v.data() + i * hkv);
  }
  std::vector<float> cs(static_cast<size_t>(t * w.rope->table_width()));
  w.rope->table(batch.positions.data(), t, cs.data());
  w.rope->apply(q.data(), t, c.num_heads, d, cs.data());
  w.rope->apply(k.data(), t, c.num_kv_heads, d, cs.data());
  cpu::KvLayer layer{k_.data(), v_.data(), compute_, num_slots_ + scratch_, c.num_kv_heads, c.head_dim};
  cpu::kv_store(batch, k.data(), v.data(), layer);
  std::vector<float> attn(static_cast<size_t>(t * hq)), delta(static_cast<size_t>(t * h)),
      normed(static_cast<size_t>(t * h));
  cpu::paged_attention(batch, q.data(), c.num_heads, layer, 1.0f / std::sqrt(static_cast<float>(d)),
                       attn.data());
  cpu::linear(attn.data(), t, w.o, nullptr, delta.data());
  cpu::add_rms_norm(delta.data(), residual.data(), w.post_norm.data(), t, h, eps, normed.data());
  const int64_t inter = w.gate_up.n() / 2;
  std::vector<float> gu(static_cast<size_t>(t * 2 * inter)), act(static_cast<size_t>(t * inter));
  cpu::linear(normed.data(), t, w.gate_up, nullptr, gu.data());
  cpu::silu_mul(gu.data(), t, inter, act.data());
  cpu::linear(act.data(), t, w.down, nullptr, delta.data());
  for (int64_t i = 0; i < t * h; ++i) residual[i] += delta[i];
  out.hidden = residual;
  const std::vector<int64_t> rows = batch.logit_token_indices();
  const auto r = static_cast<int64_t>(rows.size());
  std::vector<float> sel(static_cast<size_t>(r * h));
  for (int64_t i = 0; i < r; ++i)
    std::copy(residual.data() + rows[i] * h, residual.data() + (rows[i] + 1) * h, sel.data() + i * h);
  cpu::rms_norm(sel.data(), w.final_norm.data(), r, h, eps, sel.data());
  out.logits.resize(static_cast<size_t>(r * cfg_.draft_vocab_size));
  cpu::linear(sel.data(), r, w.lm_head, nullptr, out.logits.data());
  return out;
}

}  // namespace sgl::engine::spec
