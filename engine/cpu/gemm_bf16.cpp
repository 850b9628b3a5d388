#include "engine/cpu/gemm_bf16.h"

#include "engine/cpu/simd.h"

namespace sgl::engine::cpu {

#if defined(__AVX512BF16__)

namespace {

constexpr int kPairLanes = 32;  // bf16 elements per vdpbf16ps

inline __m512bh load_bh(const uint16_t* p) { return (__m512bh)_mm512_loadu_si512(p); }
inline __m512bh load_bh(const uint16_t* p, __mmask32 m) { return (__m512bh)_mm512_maskz_loadu_epi16(m, p); }

// Rx × Cw tile: Rx x-rows against Cw W-rows, Rx·Cw accumulators.
template <int Rx, int Cw>
inline void tile(const uint16_t* xb, const uint16_t* w, int64_t k, int64_t kfull, __mmask32 tail,
                 const float* bias, float* y, int64_t n_total, const uint16_t* next_w = nullptr) {
  __m512 acc[Rx][Cw];
  for (auto& r : acc)
    for (auto& a : r) a = _mm512_setzero_ps();
  for (int64_t i = 0; i < kfull; i += kPairLanes) {
    if constexpr (Rx == 1) {
      // Decode streams W: ask for each row's bytes a little ahead of use.
      for (int j = 0; j < Cw; ++j)
        _mm_prefetch(reinterpret_cast<const char*>(w + j * k + i + 256), _MM_HINT_T0);
    }
    if (next_w != nullptr) {
      // Batched decode streams W once: fetch the next tile's rows while this one computes
      // (without it, three row streams are latency-bound at a fraction of the bandwidth).
      for (int j = 0; j < Cw; ++j)
        _mm_prefetch(reinterpret_cast<const char*>(next_w + j * k + i), _MM_HINT_T0);
    }
    // W vectors stay in registers; one x vector at a time (Rx·Cw + Cw + 1 ≤ 32 zmm registers).
    __m512bh wv[Cw];
    for (int j = 0; j < Cw; ++j) wv[j] = load_bh(w + j * k + i);
    for (int r = 0; r < Rx; ++r) {
      const __m512bh xv = load_bh(xb + r * k + i);
      for (int j = 0; j < Cw; ++j) acc[r][j] = _mm512_dpbf16_ps(acc[r][j], xv, wv[j]);
    }
  }
  if (tail) {
    __m512bh xv[Rx];
    for (int r = 0; r < Rx; ++r) xv[r] = load_bh(xb + r * k + kfull, tail);
    for (int j = 0; j < Cw; ++j) {
      __m512bh wv = load_bh(w + j * k + kfull, tail);
      for (int r = 0; r < Rx; ++r) acc[r][j] = _mm512_dpbf16_ps(acc[r][j], xv[r], wv);
    }
  }
  for (int r = 0; r < Rx; ++r)
    for (int j = 0; j < Cw; ++j) y[r * n_total + j] = reduce16(acc[r][j]) + (bias ? bias[j] : 0.0f);
}

}  // namespace

void linear_block_bf16(const uint16_t* xb, int64_t m0, int64_t m1, const uint16_t* w, int64_t n0, int64_t n1,
                       int64_t k, int64_t n_total, const float* bias, float* y) {
  const int64_t kfull = k / kPairLanes * kPairLanes;
  const auto tail = static_cast<__mmask32>((k - kfull) == 0 ? 0u : ((1u << (k - kfull)) - 1));
  auto b = [&](int64_t n) { return bias ? bias + n : nullptr; };
  int64_t n = n0;
  if (m1 - m0 < 4) {
    // Decode: stream W sixteen rows at a time (sixteen independent accumulation chains and
    // memory streams, prefetched 512 bytes ahead) — measured ~15 % faster than 8 rows on Zen 5.
    for (; n + 16 <= n1; n += 16)
      for (int64_t m = m0; m < m1; ++m)
        tile<1, 16>(xb + m * k, w + n * k, k, kfull, tail, b(n), y + m * n_total + n, n_total);
  }
  if (m1 - m0 >= 8) {
    // Prefill / large batches: 8 x-rows × 3 W-rows (24 accumulators) reads the fewest operands
    // per dot-product step that fits the register file.
    for (; n + 3 <= n1; n += 3) {
      int64_t m = m0;
      const uint16_t* next = n + 6 <= n1 ? w + (n + 3) * k : nullptr;
      for (; m + 8 <= m1; m += 8, next = nullptr)
        tile<8, 3>(xb + m * k, w + n * k, k, kfull, tail, b(n), y + m * n_total + n, n_total, next);
      for (; m + 4 <= m1; m += 4)
        tile<4, 3>(xb + m * k, w + n * k, k, kfull, tail, b(n), y + m * n_total + n, n_total);
      for (; m < m1; ++m)
        tile<1, 3>(xb + m * k, w + n * k, k, kfull, tail, b(n), y + m * n_total + n, n_total);
    }
  }
  for (; n + 4 <= n1; n += 4) {
    int64_t m = m0;
    for (; m + 4 <= m1; m += 4)
      tile<4, 4>(xb + m * k, w + n * k, k, kfull, tail, b(n), y + m * n_total + n, n_total);
    for (; m < m1; ++m) tile<1, 4>(xb + m * k, w + n * k, k, kfull, tail, b(n), y + m * n_total + n, n_total);
  }
  for (; n < n1; ++n)
    for (int64_t m = m0; m < m1; ++m)
      tile<1, 1>(xb + m * k, w + n * k, k, kfull, tail, b(n), y + m * n_total + n, n_total);
}

#else

void linear_block_bf16(const uint16_t*, int64_t, int64_t, const uint16_t*, int64_t, int64_t, int64_t, int64_t,
                       const float*, float*) {}

#endif

}  // namespace sgl::engine::cpu
