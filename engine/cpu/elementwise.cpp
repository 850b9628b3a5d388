// Row-wise kernels: embedding gather, RMSNorm (plain and fused with the residual add), SiLU·mul,
// MoE top-k routing. Each row is computed independently with a fixed order, parallel over rows.
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "engine/cpu/kernels.h"
#include "engine/cpu/simd.h"

namespace sgl::engine::cpu {

namespace {
// Rows of `n` elements each: a few rows of a small model (a decode step, a verify) are done on
// this thread in less time than another core takes to join.
template <class F>
void for_rows(int64_t m, int64_t n, F&& f) {
  if (m * n <= (int64_t{1} << 14)) {
    for (int64_t i = 0; i < m; ++i) f(i);
    return;
  }
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, m, 1), [&](const tbb::blocked_range<int64_t>& r) {
    for (int64_t i = r.begin(); i < r.end(); ++i) f(i);
  });
}

float sum_squares(const float* x, int64_t n) { return dot(x, x, n); }
}  // namespace

void embedding(const void* table, DType table_type, int64_t hidden, const int32_t* ids, int64_t m,
               float* out) {
  for_rows(m, hidden, [&](int64_t i) {
    int64_t row = ids[i];
    float* o = out + i * hidden;
    if (table_type == DType::kF32) {
      std::memcpy(o, static_cast<const float*>(table) + row * hidden, static_cast<size_t>(hidden) * 4);
    } else {
      const uint16_t* t = static_cast<const uint16_t*>(table) + row * hidden;
      for (int64_t j = 0; j < hidden; ++j) o[j] = bf16_to_f32(t[j]);
    }
  });
}

void rms_norm(const float* x, const float* w, int64_t m, int64_t n, float eps, float* y) {
  for_rows(m, n, [&](int64_t i) {
    const float* xr = x + i * n;
    float* yr = y + i * n;
    // HF: x * rsqrt(mean(x²) + eps), then * weight (both in fp32 here).
    float inv = 1.0f / std::sqrt(sum_squares(xr, n) / static_cast<float>(n) + eps);
    for (int64_t j = 0; j < n; ++j) yr[j] = w[j] * (xr[j] * inv);
  });
}

void add_rms_norm(const float* x, float* residual, const float* w, int64_t m, int64_t n, float eps,
                  float* y) {
  for_rows(m, n, [&](int64_t i) {
    float* rr = residual + i * n;
    const float* xr = x + i * n;
    for (int64_t j = 0; j < n; ++j) rr[j] += xr[j];
    float inv = 1.0f / std::sqrt(sum_squares(rr, n) / static_cast<float>(n) + eps);
    float* yr = y + i * n;
    for (int64_t j = 0; j < n; ++j) yr[j] = w[j] * (rr[j] * inv);
  });
}

namespace {

// out = g / (1 + e^{neg(g)}) · u over rows of [gate | up]: SiLU (neg = −g) and GELU's tanh form
// (neg = −2z) share the form; `neg16` / `neg1` give the exponent sixteen lanes / one value at a time
// with the same operations, so a row's vector body and scalar tail agree.
template <class Neg16, class Neg1>
void gated_sigmoid_mul(const float* gate_up, int64_t m, int64_t inter, float* out, Neg16 neg16, Neg1 neg1) {
  for_rows(m, inter, [&](int64_t i) {
    const float* g = gate_up + i * 2 * inter;
    const float* u = g + inter;
    float* o = out + i * inter;
    int64_t j = 0;
#if defined(__AVX512F__)
    const __m512 one = _mm512_set1_ps(1.0f);
    for (; j + kLanes <= inter; j += kLanes) {
      const __m512 gv = _mm512_loadu_ps(g + j);
      const __m512 e = exp16(neg16(gv));
      _mm512_storeu_ps(o + j,
                       _mm512_mul_ps(_mm512_div_ps(gv, _mm512_add_ps(one, e)), _mm512_loadu_ps(u + j)));
    }
#else
    (void)neg16;
#endif
    for (; j < inter; ++j) o[j] = g[j] / (1.0f + exp_poly(neg1(g[j]))) * u[j];
  });
}

}  // namespace

void silu_mul(const float* gate_up, int64_t m, int64_t inter, float* out) {
#if defined(__AVX512F__)
  auto neg16 = [](__m512 g) { return _mm512_sub_ps(_mm512_setzero_ps(), g); };
#else
  auto neg16 = 0;
#endif
  gated_sigmoid_mul(gate_up, m, inter, out, neg16, [](float g) { return 0.0f - g; });
}

void gelu_tanh_mul(const float* gate_up, int64_t m, int64_t inter, float* out) {
  // 0.5·g·(1 + tanh(z)) = g / (1 + e^{−2z}), z = √(2/π)·(g + 0.044715·g³).
  constexpr float kC2 = -2.0f * 0.7978845608028654f, kA = 0.044715f;
#if defined(__AVX512F__)
  auto neg16 = [](__m512 g) {
    const __m512 inner = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_set1_ps(kA), g), _mm512_mul_ps(g, g), g);
    return _mm512_mul_ps(_mm512_set1_ps(kC2), inner);
  };
#else
  auto neg16 = 0;
#endif
  gated_sigmoid_mul(gate_up, m, inter, out, neg16, [](float g) { return kC2 * std::fma(kA * g, g * g, g); });
}

void softcap(float* x, int64_t n, float cap) {
  if (cap <= 0) return;
  int64_t i = 0;
#if defined(__AVX512F__)
  const __m512 c = _mm512_set1_ps(cap);
  for (; i + kLanes <= n; i += kLanes)
    _mm512_storeu_ps(x + i, _mm512_mul_ps(c, tanh16(_mm512_div_ps(_mm512_loadu_ps(x + i), c))));
#endif
  for (; i < n; ++i) x[i] = cap * tanh_poly(x[i] / cap);
}

void scale(float* x, int64_t n, float s) {
  if (s == 1.0f) return;
  for (int64_t i = 0; i < n; ++i) x[i] *= s;
}

float sum_exp(const float* x, int64_t n, float mx) {
  int64_t i = 0;
  float total = 0.0f;
#if defined(__AVX512F__)
  __m512 acc = _mm512_setzero_ps();
  const __m512 m = _mm512_set1_ps(mx);
  for (; i + kLanes <= n; i += kLanes)
    acc = _mm512_add_ps(acc, exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), m)));
  total = reduce16(acc);
#endif
  for (; i < n; ++i) total += exp_poly(x[i] - mx);
  return total;
}

void moe_topk_softmax(const float* router_logits, int64_t m, int num_experts, int top_k, bool norm_topk_prob,
                      int32_t* topk_ids, float* topk_weights) {
  for_rows(m, num_experts, [&](int64_t i) {
    const float* l = router_logits + i * num_experts;
    float mx = *std::max_element(l, l + num_experts);
    std::vector<float> p(static_cast<size_t>(num_experts));
    float sum = 0;
    for (int e = 0; e < num_experts; ++e) sum += (p[e] = std::exp(l[e] - mx));
    for (auto& v : p) v /= sum;
    std::vector<int32_t> idx(static_cast<size_t>(num_experts));
    std::iota(idx.begin(), idx.end(), 0);
    // Highest probability first; lower expert id wins ties (as torch.topk does in practice).
    std::partial_sort(idx.begin(), idx.begin() + top_k, idx.end(),
                      [&](int32_t a, int32_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
    float s = 0;
    for (int k = 0; k < top_k; ++k) s += p[idx[k]];
    for (int k = 0; k < top_k; ++k) {
      topk_ids[i * top_k + k] = idx[k];
      topk_weights[i * top_k + k] = norm_topk_prob ? p[idx[k]] / s : p[idx[k]];
    }
  });
}

}  // namespace sgl::engine::cpu
