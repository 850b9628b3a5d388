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
                 const float* bias, float* y, int64_t n_total) {
  __m512 acc[Rx][Cw];
  for (auto& r : acc)
    for (auto& a : r) a = _mm512_setzero_ps();
  for (int64_t i = 0; i < kfull; i += kPairLanes) {
    if constexpr (Rx == 1) {
      // Decode streams W: ask for each row's bytes a little ahead of use.
      for (int j = 0; j < Cw; ++j)
        _mm_prefetch(reinterpret_cast<const char*>(w + j * k + i + 512), _MM_HINT_T0);
    }
    __m512bh xv[Rx];
    for (int r = 0; r < Rx; ++r) xv[r] = load_bh(xb + r * k + i);
    for (int j = 0; j < Cw; ++j) {
      __m512bh wv = load_bh(w + j * k + i);
      for (int r = 0; r < Rx; ++r) acc[r][j] = _mm512_dpbf16_ps(acc[r][j], xv[r], wv);
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
    // Decode: stream W eight rows at a time (eight independent accumulation chains).
    for (; n + 8 <= n1; n += 8)
      for (int64_t m = m0; m < m1; ++m)
        tile<1, 8>(xb + m * k, w + n * k, k, kfull, tail, b(n), y + m * n_total + n, n_total);
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
