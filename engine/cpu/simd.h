// The one vector primitive every matmul-like kernel uses: a dot product whose reduction order is
// fixed by K alone (16 lane-wise partial sums, then a fixed tree). Row counts, tiling and thread
// splits never change a result — the engine's batch invariance rests on this.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__AVX512F__)
#include <immintrin.h>
// GCC 12 reports its own _mm512_undefined_* placeholders inside these intrinsics as
// "maybe uninitialized"; the warning is spurious (a known GCC issue) and would bury real ones.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "engine/dtype.h"

namespace sgl::engine::cpu {

constexpr int kLanes = 16;

// A KV cache element stored as OCP float8 (--kv-cache-dtype fp8_e4m3 / fp8_e5m2), scale 1.
struct Fp8E4M3 {
  uint8_t bits;
};
struct Fp8E5M2 {
  uint8_t bits;
};

// Sum of 16 partial sums in a fixed pairwise order (identical for the SIMD and scalar paths).
inline float reduce16(const float* p) {
  float a[8];
  for (int i = 0; i < 8; ++i) a[i] = p[i] + p[i + 8];
  float b[4];
  for (int i = 0; i < 4; ++i) b[i] = a[i] + a[i + 4];
  return (b[0] + b[2]) + (b[1] + b[3]);
}

#if defined(__AVX512F__)
inline __m512 load16(const float* p) { return _mm512_loadu_ps(p); }
inline __m512 load16(const uint16_t* p) {  // bf16 → f32 is a 16-bit shift
  return _mm512_castsi512_ps(
      _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16));
}
// float8_e4m3fn → f32: the 7 magnitude bits under f32's exponent field, rebiased (+120) for
// normals; subnormals (exponent 0) are m · 2^-9. (A cache never holds NaN: stores saturate.)
inline __m512 decode_e4m3(__m512i u) {
  const __m512i mag = _mm512_slli_epi32(_mm512_and_si512(u, _mm512_set1_epi32(0x7f)), 20);
  const __m512i normal = _mm512_add_epi32(mag, _mm512_set1_epi32(120 << 23));
  const __mmask16 is_sub = _mm512_testn_epi32_mask(u, _mm512_set1_epi32(0x78));
  const __m512 sub = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_and_si512(u, _mm512_set1_epi32(7))),
                                   _mm512_set1_ps(1.0f / 512.0f));
  const __m512i bits = _mm512_mask_mov_epi32(normal, is_sub, _mm512_castps_si512(sub));
  return _mm512_castsi512_ps(
      _mm512_or_si512(bits, _mm512_slli_epi32(_mm512_and_si512(u, _mm512_set1_epi32(0x80)), 24)));
}
inline __m512 load16(const Fp8E4M3* p) {
  return decode_e4m3(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}
inline __m512 load16_masked(const Fp8E4M3* p, __mmask16 m) {
  return decode_e4m3(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, p)));
}
// float8_e5m2 is the top byte of an IEEE half.
inline __m512 load16(const Fp8E5M2* p) {
  return _mm512_cvtph_ps(
      _mm256_slli_epi16(_mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 8));
}
inline __m512 load16_masked(const Fp8E5M2* p, __mmask16 m) {
  return _mm512_cvtph_ps(_mm256_slli_epi16(_mm256_cvtepu8_epi16(_mm_maskz_loadu_epi8(m, p)), 8));
}
inline __m512 load16_masked(const float* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
inline __m512 load16_masked(const uint16_t* p, __mmask16 m) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p)), 16));
}
// reduce16 in registers, the same additions in the same order as the scalar version above.
inline float reduce16(__m512 v) {
  const __m256 a = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));  // p[i] + p[i+8]
  const __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));      // a[i] + a[i+4]
  const __m128 c = _mm_add_ps(b, _mm_movehl_ps(b, b));                                      // b0+b2, b1+b3
  return _mm_cvtss_f32(_mm_add_ss(c, _mm_shuffle_ps(c, c, 1)));
}

// Sixteen reduce16 at once: lane j of the result is reduce16(v[j]) bit for bit (the same additions
// in the same order, done on transposed halves), for ~3× fewer instructions than sixteen calls.
// With a short K (a small model's LM head) the per-output reductions cost more than the dot
// products, so the GEMM tiles with 16 accumulators use this. (The maskz forms with a full mask:
// g++ 12 warns on the plain shuffle_f32x4's undefined pass-through operand.)
inline __m512 reduce16x16(const __m512* v) {
  __m512 w[8];  // w[p]: lanes 0-7 hold v[2p][i] + v[2p][i+8], lanes 8-15 the same for v[2p+1]
  for (int p = 0; p < 8; ++p)
    w[p] = _mm512_add_ps(_mm512_maskz_shuffle_f32x4(0xFFFF, v[2 * p], v[2 * p + 1], 0x44),
                         _mm512_maskz_shuffle_f32x4(0xFFFF, v[2 * p], v[2 * p + 1], 0xEE));
  __m512 x[4];  // x[q] quarter g: a[i] + a[i+4] of v[4q+g]
  for (int q = 0; q < 4; ++q)
    x[q] = _mm512_add_ps(_mm512_maskz_shuffle_f32x4(0xFFFF, w[2 * q], w[2 * q + 1], 0x88),
                         _mm512_maskz_shuffle_f32x4(0xFFFF, w[2 * q], w[2 * q + 1], 0xDD));
  // s quarter g: [b0+b2, b1+b3] of v[g] (or v[8+g]), then of v[4+g] (or v[12+g]).
  const __m512 s01 = _mm512_add_ps(_mm512_shuffle_ps(x[0], x[1], _MM_SHUFFLE(1, 0, 1, 0)),
                                   _mm512_shuffle_ps(x[0], x[1], _MM_SHUFFLE(3, 2, 3, 2)));
  const __m512 s23 = _mm512_add_ps(_mm512_shuffle_ps(x[2], x[3], _MM_SHUFFLE(1, 0, 1, 0)),
                                   _mm512_shuffle_ps(x[2], x[3], _MM_SHUFFLE(3, 2, 3, 2)));
  // r lane 4g+i: (b0+b2) + (b1+b3) of v[4i+g]; permute lane j to hold v[j]'s.
  const __m512 r = _mm512_add_ps(_mm512_shuffle_ps(s01, s23, _MM_SHUFFLE(2, 0, 2, 0)),
                                 _mm512_shuffle_ps(s01, s23, _MM_SHUFFLE(3, 1, 3, 1)));
  const __m512i idx = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  return _mm512_permutexvar_ps(idx, r);
}

// exp(x) for softmax-like uses (x ≤ 0 mostly; -inf gives 0): Cephes' expf — x = n·ln2 + r with
// |r| ≤ ln2/2, a degree-7 polynomial in r, then scaled by 2^n — within ~2 ulp of std::exp, and
// the same operations in the same order in exp16 and exp_poly, so vector and scalar tails agree
// bit for bit.
inline __m512 exp16(__m512 x) {
  x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(88.7f)), _mm512_set1_ps(-104.0f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, n);
}
#endif

inline float exp_poly(float x) {
  x = std::max(std::min(x, 88.7f), -104.0f);
  const float n = std::nearbyint(x * 1.44269504088896341f);
  float r = std::fma(-n, 0.693359375f, x);
  r = std::fma(-n, -2.12194440e-4f, r);
  float p = 1.9875691500e-4f;
  p = std::fma(p, r, 1.3981999507e-3f);
  p = std::fma(p, r, 8.3334519073e-3f);
  p = std::fma(p, r, 4.1665795894e-2f);
  p = std::fma(p, r, 1.6666665459e-1f);
  p = std::fma(p, r, 5.0000001201e-1f);
  p = std::fma(p * r, r, r + 1.0f);
  return std::ldexp(p, static_cast<int>(n));
}

// tanh(y) = 1 − 2/(1 + e^{2y}) on exp_poly / exp16 (soft-capping, GELU): absolute error ~1e-7,
// saturating cleanly to ±1; the vector and scalar forms agree bit for bit.
inline float tanh_poly(float y) { return 1.0f - 2.0f / (1.0f + exp_poly(2.0f * y)); }
#if defined(__AVX512F__)
inline __m512 tanh16(__m512 y) {
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 e = exp16(_mm512_add_ps(y, y));
  return _mm512_sub_ps(one, _mm512_div_ps(_mm512_set1_ps(2.0f), _mm512_add_ps(one, e)));
}
#endif

// dst[i] = f32_to_bf16(src[i]) (round to nearest even, NaN kept quiet): the same integer steps
// sixteen at a time, so a row's vector body and scalar tail round alike.
inline void f32_to_bf16_row(const float* src, int64_t n, uint16_t* dst) {
  int64_t i = 0;
#if defined(__AVX512F__)
  const __m512i abs_mask = _mm512_set1_epi32(0x7fffffff), inf = _mm512_set1_epi32(0x7f800000);
  const __m512i bias = _mm512_set1_epi32(0x7fff), one = _mm512_set1_epi32(1), quiet = _mm512_set1_epi32(0x40);
  for (; i + kLanes <= n; i += kLanes) {
    const __m512i bits = _mm512_loadu_si512(src + i);
    const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(bits, abs_mask), inf);
    const __m512i rounded = _mm512_srli_epi32(
        _mm512_add_epi32(bits, _mm512_add_epi32(bias, _mm512_and_si512(_mm512_srli_epi32(bits, 16), one))),
        16);
    const __m512i r = _mm512_mask_or_epi32(rounded, nan, _mm512_srli_epi32(bits, 16), quiet);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm512_cvtepi32_epi16(r));
  }
#endif
  for (; i < n; ++i) dst[i] = f32_to_bf16(src[i]);
}

inline float to_f32(float v) { return v; }
inline float to_f32(uint16_t v) { return bf16_to_f32(v); }
inline float to_f32(Fp8E4M3 v) { return f8e4m3_to_f32(v.bits); }
inline float to_f32(Fp8E5M2 v) { return f8e5m2_to_f32(v.bits); }

// dot(x[0:k], w[0:k]) with the fixed reduction order. W is f32 or bf16 (as uint16_t).
template <class W>
inline float dot(const float* x, const W* w, int64_t k) {
#if defined(__AVX512F__)
  __m512 acc = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + kLanes <= k; i += kLanes) acc = _mm512_fmadd_ps(load16(x + i), load16(w + i), acc);
  if (i < k) {
    __mmask16 m = static_cast<__mmask16>((1u << (k - i)) - 1);
    acc = _mm512_fmadd_ps(load16_masked(x + i, m), load16_masked(w + i, m), acc);
  }
  return reduce16(acc);
#else
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= k; i += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] = __builtin_fmaf(x[i + l], to_f32(w[i + l]), acc[l]);
  for (int l = 0; i + l < k; ++l) acc[l] = __builtin_fmaf(x[i + l], to_f32(w[i + l]), acc[l]);
  return reduce16(acc);
#endif
}

}  // namespace sgl::engine::cpu
