// y = x · Wᵀ for quantized W (quant_weight.h). Per output row and group: the dot product of x with
// the widened codes in fp32 (16 lanes, reduced once per group), minus zero · Σx over the group, times
// the group's scale — so a zero point costs one multiply per group, not one per weight. Rows of x
// share each decoded vector of codes (up to eight at a time). The order of every output's
// additions is fixed by the weight alone: batch-invariant.
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>

#include "engine/cpu/quant_weight.h"
#include "engine/dtype.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#pragma GCC diagnostic ignored "-Wuninitialized"

namespace sgl::engine::cpu {

QuantWeight::QuantWeight(int64_t n_, int64_t k_, QuantCode code_, int64_t group_, bool zero_points)
    : n(n_), k(k_), code(code_), group(group_) {
  codes.assign(static_cast<size_t>(n * row_bytes()), 0);
  scales.assign(static_cast<size_t>(n * groups()), 0.0f);
  if (zero_points) zeros.assign(static_cast<size_t>(n * groups()), 0.0f);
}

int64_t QuantWeight::bytes() const {
  int64_t b = static_cast<int64_t>(codes.size() + 4 * (scales.size() + zeros.size()));
  for (const auto& p : perms) b += static_cast<int64_t>(4 * p.perm.size());
  return b;
}

void QuantWeight::set(int64_t row, int64_t col, uint8_t v) {
  if (code != QuantCode::kU4) {
    codes[static_cast<size_t>(row * k + col)] = v;
    return;
  }
  const int64_t chunk = col / 16, j = col % 16;
  uint8_t& b = codes[static_cast<size_t>(row * (k / 2) + chunk * 8 + j % 8)];
  b = j < 8 ? static_cast<uint8_t>((b & 0xf0) | (v & 0x0f)) : static_cast<uint8_t>((b & 0x0f) | (v << 4));
}

uint8_t QuantWeight::get(int64_t row, int64_t col) const {
  if (code != QuantCode::kU4) return codes[static_cast<size_t>(row * k + col)];
  const int64_t chunk = col / 16, j = col % 16;
  const uint8_t b = codes[static_cast<size_t>(row * (k / 2) + chunk * 8 + j % 8)];
  return j < 8 ? b & 0x0f : b >> 4;
}

float QuantWeight::dequant(int64_t row, int64_t col) const {
  const int64_t g = row * groups() + col / group;
  if (code == QuantCode::kF8E4M3) return f8e4m3_to_f32(get(row, col)) * scales[static_cast<size_t>(g)];
  return (static_cast<float>(get(row, col)) - zeros[static_cast<size_t>(g)]) * scales[static_cast<size_t>(g)];
}

namespace {

// Rows of x sharing each decoded vector of codes (two accumulators each fit the 32 registers).
constexpr int kTileRows = 8;

#if defined(__AVX512F__)
// 16 codes from input `col` (a multiple of 16) of a row, `count` ≤ 16 of them valid, as floats.
inline __m512 decode16(const QuantWeight& w, const uint8_t* row, int64_t col, int count) {
  const __mmask16 mask =
      count >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << count) - 1);
  switch (w.code) {
    case QuantCode::kU4: {
      // Byte j of the chunk: input j in the low nibble, j + 8 in the high one.
      const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(row + col / 2));
      const __m256i v = _mm256_cvtepu8_epi32(b);
      const __m256i lo = _mm256_and_si256(v, _mm256_set1_epi32(0xf));
      const __m256i hi = _mm256_srli_epi32(v, 4);
      return _mm512_cvtepi32_ps(_mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1));
    }
    case QuantCode::kU8: {
      const __m128i b = _mm_maskz_loadu_epi8(mask, row + col);
      return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(b));
    }
    case QuantCode::kF8E4M3: {
      // float8_e4m3fn → f32 in integer ops: the 7 magnitude bits shifted under f32's exponent field
      // and the exponent rebiased (+120) for normals; subnormals (exponent 0) are m · 2^-9. Weights
      // hold no NaN (S.1111.111), so it is not looked for.
      const __m512i u = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(mask, row + col));
      const __m512i mag = _mm512_slli_epi32(_mm512_and_si512(u, _mm512_set1_epi32(0x7f)), 20);
      const __m512i normal = _mm512_add_epi32(mag, _mm512_set1_epi32(120 << 23));
      const __mmask16 is_sub = _mm512_testn_epi32_mask(u, _mm512_set1_epi32(0x78));
      const __m512 sub = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_and_si512(u, _mm512_set1_epi32(7))),
                                       _mm512_set1_ps(1.0f / 512.0f));
      const __m512i bits = _mm512_mask_mov_epi32(normal, is_sub, _mm512_castps_si512(sub));
      const __m512i sign = _mm512_slli_epi32(_mm512_and_si512(u, _mm512_set1_epi32(0x80)), 24);
      return _mm512_castsi512_ps(_mm512_or_si512(bits, sign));
    }
  }
  return _mm512_setzero_ps();
}
#endif

// Rows [n0, n1) of W against rows [0, m) of xs ([m, k] in the stored input order), with Σx per
// group in xsum ([m, groups]) when W has zero points.
void quant_rows(const float* xs, int64_t m, const QuantWeight& w, const float* xsum, const float* bias,
                int64_t n0, int64_t n1, float* y, int64_t ldy) {
  const int64_t k = w.k, ng = w.groups(), rb = w.row_bytes();
  const bool zp = !w.zeros.empty();
  for (int64_t n = n0; n < n1; ++n) {
    const uint8_t* row = w.codes.data() + n * rb;
    const float* sc = w.scales.data() + n * ng;
    const float* zr = zp ? w.zeros.data() + n * ng : nullptr;
    for (int64_t m0 = 0; m0 < m; m0 += kTileRows) {
      const int mr = static_cast<int>(std::min<int64_t>(kTileRows, m - m0));
      float acc[kTileRows] = {};
#if defined(__AVX512F__)
      // Each group's partial dot product joins the row's vector accumulator times its scale; one
      // horizontal sum per output at the end. Zero points: − Σ_g s_g·z_g·Σx_g, in scalars.
      __m512 total[kTileRows];
      for (auto& t : total) t = _mm512_setzero_ps();
      for (int64_t g = 0; g < ng; ++g) {
        const int64_t k0 = g * w.group, k1 = std::min(k, k0 + w.group);
        __m512 a[kTileRows];
        for (auto& v : a) v = _mm512_setzero_ps();
        for (int64_t kk = k0; kk < k1; kk += 16) {
          const int cnt = static_cast<int>(std::min<int64_t>(16, k1 - kk));
          const __mmask16 mask =
              cnt >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << cnt) - 1);
          const __m512 wv = decode16(w, row, kk, cnt);
          for (int r = 0; r < mr; ++r)
            a[r] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, xs + (m0 + r) * k + kk), wv, a[r]);
        }
        const __m512 s = _mm512_set1_ps(sc[g]);
        for (int r = 0; r < mr; ++r) total[r] = _mm512_fmadd_ps(s, a[r], total[r]);
        if (zp)
          for (int r = 0; r < mr; ++r) acc[r] -= sc[g] * zr[g] * xsum[(m0 + r) * ng + g];
      }
      for (int r = 0; r < mr; ++r) acc[r] += _mm512_reduce_add_ps(total[r]);
#else
      for (int64_t g = 0; g < ng; ++g) {
        const int64_t k0 = g * w.group, k1 = std::min(k, k0 + w.group);
        for (int r = 0; r < mr; ++r) {
          float dot = 0.0f;
          for (int64_t kk = k0; kk < k1; ++kk) {
            const uint8_t c = w.get(n, kk);
            const float v = w.code == QuantCode::kF8E4M3 ? f8e4m3_to_f32(c) : static_cast<float>(c);
            dot += xs[(m0 + r) * k + kk] * v;
          }
          acc[r] += sc[g] * (zp ? dot - zr[g] * xsum[(m0 + r) * ng + g] : dot);
        }
      }
#endif
      for (int r = 0; r < mr; ++r) y[(m0 + r) * ldy + n] = acc[r] + (bias ? bias[n] : 0.0f);
    }
  }
}

#if defined(__AVX512BF16__)
// 4-bit codes against bf16 activations with vdpbf16ps. 32 inputs' codes (16 bytes) widen to 16-bit
// lanes as [0..7, 16..23 | 8..15, 24..31] (low nibbles, then high ones); `xb` holds each row's
// bf16 activations in that same order, so the lanes pair up without shuffling the codes. A code c
// becomes the bf16 number 128 + c by adding 0x4300 (exact: bf16 has 7 mantissa bits), and the
// extra 128·Σx joins the zero point: Σx·(c − z) = Σx·(128 + c) − (128 + z)·Σx, with Σx over the
// group's bf16 activations (`xsum`).
constexpr int kPairOrder[32] = {0, 1, 2,  3,  4,  5,  6,  7,  16, 17, 18, 19, 20, 21, 22, 23,
                                8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31};

// 32 4-bit codes (16 bytes) as bf16 128 + c, in kPairOrder.
inline __m512i u4_to_bf16x32(const uint8_t* p) {
  const __m256i b16 = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  const __m256i lo = _mm256_and_si256(b16, _mm256_set1_epi16(0xf));
  const __m256i hi = _mm256_srli_epi16(b16, 4);
  return _mm512_add_epi16(_mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1), _mm512_set1_epi16(0x4300));
}

// 32 float8_e4m3fn codes as bf16, in input order: normals move their 7 magnitude bits under bf16's
// exponent field and rebias it (+120); subnormals m · 2^-9 (normal numbers in bf16) come from a
// table indexed by m; then the sign.
inline __m512i e4m3_to_bf16x32(const uint8_t* p) {
  const __m512i u = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  const __m512i normal = _mm512_add_epi16(_mm512_slli_epi16(_mm512_and_si512(u, _mm512_set1_epi16(0x7f)), 4),
                                          _mm512_set1_epi16(120 << 7));
  // bf16 bits of m · 2^-9 for m = 0..7.
  const __m512i table = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                         0, 0x3c60, 0x3c40, 0x3c20, 0x3c00, 0x3bc0, 0x3b80, 0x3b00, 0x0000);
  const __m512i sub = _mm512_permutexvar_epi16(_mm512_and_si512(u, _mm512_set1_epi16(7)), table);
  const __mmask32 is_sub = _mm512_testn_epi16_mask(u, _mm512_set1_epi16(0x78));
  const __m512i mag = _mm512_mask_mov_epi16(normal, is_sub, sub);
  return _mm512_or_si512(mag, _mm512_slli_epi16(_mm512_and_si512(u, _mm512_set1_epi16(0x80)), 8));
}

void quant_rows_bf16(const uint16_t* xb, int64_t m, const QuantWeight& w, const float* xsum,
                     const float* bias, int64_t n0, int64_t n1, float* y, int64_t ldy) {
  const int64_t k = w.k, ng = w.groups(), rb = w.row_bytes();
  const bool fp8 = w.code == QuantCode::kF8E4M3;
  for (int64_t n = n0; n < n1; ++n) {
    const uint8_t* row = w.codes.data() + n * rb;
    const float* sc = w.scales.data() + n * ng;
    const float* zr = fp8 ? nullptr : w.zeros.data() + n * ng;
    for (int64_t m0 = 0; m0 < m; m0 += kTileRows) {
      const int mr = static_cast<int>(std::min<int64_t>(kTileRows, m - m0));
      float acc[kTileRows] = {};
      __m512 total[kTileRows];
      for (auto& t : total) t = _mm512_setzero_ps();
      for (int64_t g = 0; g < ng; ++g) {
        const int64_t k0 = g * w.group, k1 = std::min(k, k0 + w.group);
        __m512 a[kTileRows];
        for (auto& v : a) v = _mm512_setzero_ps();
        for (int64_t kk = k0; kk < k1; kk += 32) {
          const __m512i codes = fp8 ? e4m3_to_bf16x32(row + kk) : u4_to_bf16x32(row + kk / 2);
          const __m512bh wv = reinterpret_cast<const __m512bh&>(codes);
          for (int r = 0; r < mr; ++r) {
            const __m512i xv = _mm512_loadu_si512(xb + (m0 + r) * k + kk);
            a[r] = _mm512_dpbf16_ps(a[r], reinterpret_cast<const __m512bh&>(xv), wv);
          }
        }
        const __m512 s = _mm512_set1_ps(sc[g]);
        for (int r = 0; r < mr; ++r) {
          total[r] = _mm512_fmadd_ps(s, a[r], total[r]);
          if (!fp8) acc[r] -= sc[g] * (zr[g] + 128.0f) * xsum[(m0 + r) * ng + g];
        }
      }
      for (int r = 0; r < mr; ++r)
        y[(m0 + r) * ldy + n] = acc[r] + _mm512_reduce_add_ps(total[r]) + (bias ? bias[n] : 0.0f);
    }
  }
}
#endif

}  // namespace

void quant_linear(const float* x, int64_t m, const QuantWeight& w, const float* bias, float* y) {
  const int64_t k = w.k, ng = w.groups();
  // Segments of rows that share an input order (one, unless GPTQ act-order fused several tensors).
  struct Seg {
    int64_t r0, r1;
    const std::vector<int32_t>* perm;
  };
  std::vector<Seg> segs;
  if (w.perms.empty()) {
    segs.push_back({0, w.n, nullptr});
  } else {
    for (size_t i = 0; i < w.perms.size(); ++i)
      segs.push_back({w.perms[i].row0, i + 1 < w.perms.size() ? w.perms[i + 1].row0 : w.n,
                      w.perms[i].perm.empty() ? nullptr : &w.perms[i].perm});
  }
  for (const Seg& s : segs) {
    std::vector<float> gathered;
    const float* xs = x;
    if (s.perm) {
      gathered.resize(static_cast<size_t>(m * k));
      for (int64_t r = 0; r < m; ++r)
        for (int64_t j = 0; j < k; ++j) gathered[r * k + j] = x[r * k + (*s.perm)[j]];
      xs = gathered.data();
    }
#if defined(__AVX512BF16__)
    if (w.bf16_activations && w.code != QuantCode::kU8 && w.group % 32 == 0 && k % 32 == 0) {
      const bool fp8 = w.code == QuantCode::kF8E4M3;  // codes in input order (no pairing shuffle)
      std::vector<uint16_t> xb(static_cast<size_t>(m * k));
      std::vector<float> xsum(static_cast<size_t>(m * ng), 0.0f);
      for (int64_t r = 0; r < m; ++r)
        for (int64_t b = 0; b < k; b += 32)
          for (int j = 0; j < 32; ++j) {
            const uint16_t h = f32_to_bf16(xs[r * k + b + (fp8 ? j : kPairOrder[j])]);
            xb[r * k + b + j] = h;
            xsum[r * ng + b / w.group] += bf16_to_f32(h);
          }
      const int64_t rows = s.r1 - s.r0;
      if (rows * k * m < (int64_t{1} << 18)) {
        quant_rows_bf16(xb.data(), m, w, xsum.data(), bias, s.r0, s.r1, y, w.n);
        continue;
      }
      tbb::parallel_for(tbb::blocked_range<int64_t>(s.r0, s.r1, 16),
                        [&](const tbb::blocked_range<int64_t>& r) {
                          quant_rows_bf16(xb.data(), m, w, xsum.data(), bias, r.begin(), r.end(), y, w.n);
                        });
      continue;
    }
#endif
    std::vector<float> xsum;
    if (!w.zeros.empty()) {
      xsum.assign(static_cast<size_t>(m * ng), 0.0f);
      for (int64_t r = 0; r < m; ++r)
        for (int64_t g = 0; g < ng; ++g) {
          float t = 0.0f;
          for (int64_t j = g * w.group; j < std::min(k, (g + 1) * w.group); ++j) t += xs[r * k + j];
          xsum[r * ng + g] = t;
        }
    }
    const int64_t rows = s.r1 - s.r0;
    // Small products on the calling thread (a decode step of a tiny layer); else blocks of rows.
    if (rows * k * m < (int64_t{1} << 18)) {
      quant_rows(xs, m, w, xsum.data(), bias, s.r0, s.r1, y, w.n);
      continue;
    }
    tbb::parallel_for(tbb::blocked_range<int64_t>(s.r0, s.r1, 16), [&](const tbb::blocked_range<int64_t>& r) {
      quant_rows(xs, m, w, xsum.data(), bias, r.begin(), r.end(), y, w.n);
    });
  }
}

}  // namespace sgl::engine::cpu
