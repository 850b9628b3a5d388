#include "engine/cpu/gemm_bf16.h"

#include <algorithm>

// g++ 12 flags the intrinsics' "undefined" pass-through operands as uninitialized once the tiles
// are unrolled (a known false positive of its avx512 headers); nothing here reads such a value.
#pragma GCC diagnostic ignored "-Wuninitialized"

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
  // Every loop over the tile is unrolled (the pragmas): g++ otherwise keeps acc and wv in stack
  // memory for the 4 × 4 tile, and each dot-product step becomes a load-compute-store chain.
  __m512 acc[Rx][Cw];
#pragma GCC unroll 16
  for (int r = 0; r < Rx; ++r)
#pragma GCC unroll 16
    for (int j = 0; j < Cw; ++j) acc[r][j] = _mm512_setzero_ps();
  for (int64_t i = 0; i < kfull; i += kPairLanes) {
    if constexpr (Rx <= 3) {
      // Decode streams W: ask for each row's bytes a little ahead of use.
#pragma GCC unroll 16
      for (int j = 0; j < Cw; ++j)
        _mm_prefetch(reinterpret_cast<const char*>(w + j * k + i + 256), _MM_HINT_T0);
    }
    if (next_w != nullptr) {
      // Batched decode streams W once: fetch the next tile's rows while this one computes
      // (without it, three row streams are latency-bound at a fraction of the bandwidth).
#pragma GCC unroll 16
      for (int j = 0; j < Cw; ++j)
        _mm_prefetch(reinterpret_cast<const char*>(next_w + j * k + i), _MM_HINT_T0);
    }
    // W vectors stay in registers; one x vector at a time (Rx·Cw + Cw + 1 ≤ 32 zmm registers).
    __m512bh wv[Cw];
#pragma GCC unroll 16
    for (int j = 0; j < Cw; ++j) wv[j] = load_bh(w + j * k + i);
#pragma GCC unroll 16
    for (int r = 0; r < Rx; ++r) {
      const __m512bh xv = load_bh(xb + r * k + i);
#pragma GCC unroll 16
      for (int j = 0; j < Cw; ++j) acc[r][j] = _mm512_dpbf16_ps(acc[r][j], xv, wv[j]);
    }
  }
  if (tail) {
    __m512bh xv[Rx];
#pragma GCC unroll 16
    for (int r = 0; r < Rx; ++r) xv[r] = load_bh(xb + r * k + kfull, tail);
#pragma GCC unroll 16
    for (int j = 0; j < Cw; ++j) {
      __m512bh wv = load_bh(w + j * k + kfull, tail);
#pragma GCC unroll 16
      for (int r = 0; r < Rx; ++r) acc[r][j] = _mm512_dpbf16_ps(acc[r][j], xv[r], wv);
    }
  }
  if constexpr (Rx * Cw == 16) {
    // Lane r·Cw + j of `sums` is reduce16(acc[r][j]); plus the bias (or +0.0f, as the scalar path).
    const __m512 sums = reduce16x16(&acc[0][0]);
    if constexpr (Cw == 16) {
      _mm512_storeu_ps(y, _mm512_add_ps(sums, bias ? _mm512_loadu_ps(bias) : _mm512_setzero_ps()));
    } else if constexpr (Cw == 4) {
      // Four x-rows of four outputs: one 128-bit add and store each.
      const __m128 b4 = bias ? _mm_loadu_ps(bias) : _mm_setzero_ps();
      _mm_storeu_ps(y, _mm_add_ps(_mm512_extractf32x4_ps(sums, 0), b4));
      _mm_storeu_ps(y + n_total, _mm_add_ps(_mm512_extractf32x4_ps(sums, 1), b4));
      _mm_storeu_ps(y + 2 * n_total, _mm_add_ps(_mm512_extractf32x4_ps(sums, 2), b4));
      _mm_storeu_ps(y + 3 * n_total, _mm_add_ps(_mm512_extractf32x4_ps(sums, 3), b4));
    } else if constexpr (Cw == 8) {
      // Two x-rows of eight outputs: one 256-bit add and store each.
      const __m256 b8 = bias ? _mm256_loadu_ps(bias) : _mm256_setzero_ps();
      _mm256_storeu_ps(y, _mm256_add_ps(_mm512_castps512_ps256(sums), b8));
      _mm256_storeu_ps(y + n_total, _mm256_add_ps(_mm512_extractf32x8_ps(sums, 1), b8));
    } else {
      alignas(64) float out[16];
      _mm512_store_ps(out, sums);
      for (int r = 0; r < Rx; ++r)
        for (int j = 0; j < Cw; ++j) y[r * n_total + j] = out[r * Cw + j] + (bias ? bias[j] : 0.0f);
    }
  } else {
    for (int r = 0; r < Rx; ++r)
      for (int j = 0; j < Cw; ++j) y[r * n_total + j] = reduce16(acc[r][j]) + (bias ? bias[j] : 0.0f);
  }
}

}  // namespace

void linear_block_bf16(const uint16_t* xb, int64_t m0, int64_t m1, const uint16_t* w, int64_t n0, int64_t n1,
                       int64_t k, int64_t n_total, const float* bias, float* y) {
  const int64_t kfull = k / kPairLanes * kPairLanes;
  const auto tail = static_cast<__mmask32>((k - kfull) == 0 ? 0u : ((1u << (k - kfull)) - 1));
  auto b = [&](int64_t n) { return bias ? bias + n : nullptr; };
  int64_t n = n0;
  if (m1 - m0 == 2 || m1 - m0 == 3) {
    // Two or three rows (small batches, short verifies): one pass over W for all of them.
    for (; n + 8 <= n1 && m1 - m0 == 2; n += 8)
      tile<2, 8>(xb + m0 * k, w + n * k, k, kfull, tail, b(n), y + m0 * n_total + n, n_total);
    for (; n + 5 <= n1 && m1 - m0 == 3; n += 5)
      tile<3, 5>(xb + m0 * k, w + n * k, k, kfull, tail, b(n), y + m0 * n_total + n, n_total);
  }
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
  const int64_t ahead = std::max<int64_t>(4, (4096 / (2 * std::max<int64_t>(k, 1)) + 3) / 4 * 4);
  for (; n + 4 <= n1; n += 4) {
    int64_t m = m0;
    // As for 8 × 3: the first x-block prefetches W-rows ahead (verify and small batches are
    // otherwise latency-bound on four row streams), ~4 KB ahead: with a short K (a small model's
    // LM head, 256-byte rows) the next tile alone is too close to hide the memory latency.
    const uint16_t* next = n + ahead + 4 <= n1 ? w + (n + ahead) * k : nullptr;
    for (; m + 4 <= m1; m += 4, next = nullptr)
      tile<4, 4>(xb + m * k, w + n * k, k, kfull, tail, b(n), y + m * n_total + n, n_total, next);
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
