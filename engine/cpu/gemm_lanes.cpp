#include "engine/cpu/gemm_lanes.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <type_traits>

// g++ 12 flags the intrinsics' "undefined" pass-through operands as uninitialized once the tiles
// are unrolled (a known false positive of its avx512 headers); nothing here reads such a value.
#pragma GCC diagnostic ignored "-Wuninitialized"

#include "engine/cpu/simd.h"

namespace sgl::engine::cpu {

namespace {

int64_t blocks_of(int64_t n) { return (n + kLaneOutputs - 1) / kLaneOutputs; }
int64_t pairs_of(int64_t k) { return (k + 1) / 2; }

// Element (row, col) of W inside the lane layout.
inline int64_t lane_index(int64_t row, int64_t col, int64_t kp) {
  return ((row / kLaneOutputs) * kp + col / 2) * (2 * kLaneOutputs) + (row % kLaneOutputs) * 2 + col % 2;
}

template <class Fn>
void for_blocks(int64_t n, Fn&& fn) {
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, blocks_of(n), 64),
                    [&](const tbb::blocked_range<int64_t>& r) {
                      for (int64_t b = r.begin(); b < r.end(); ++b) fn(b);
                    });
}

}  // namespace

int64_t lane_layout_elements(int64_t n, int64_t k) { return blocks_of(n) * pairs_of(k) * 2 * kLaneOutputs; }

void to_lane_layout(const uint16_t* row_major, int64_t n, int64_t k, uint16_t* lanes) {
  const int64_t kp = pairs_of(k);
  for_blocks(n, [&](int64_t b) {
    for (int64_t row = b * kLaneOutputs; row < (b + 1) * kLaneOutputs; ++row)
      for (int64_t col = 0; col < 2 * kp; ++col)
        lanes[lane_index(row, col, kp)] = row < n && col < k ? row_major[row * k + col] : uint16_t{0};
  });
}

void from_lane_layout(const uint16_t* lanes, int64_t n, int64_t k, uint16_t* row_major) {
  const int64_t kp = pairs_of(k);
  for_blocks(n, [&](int64_t b) {
    for (int64_t row = b * kLaneOutputs; row < std::min(n, (b + 1) * kLaneOutputs); ++row)
      for (int64_t col = 0; col < k; ++col) row_major[row * k + col] = lanes[lane_index(row, col, kp)];
  });
}

#if defined(__AVX512BF16__)

namespace {

// fn(std::integral_constant<int, count>) for a remainder count of 1..4 (nothing for 0): one
// compiled tile per remainder size.
template <class Fn>
void with_count(int64_t count, Fn&& fn) {
  switch (count) {
    case 4:
      fn(std::integral_constant<int, 4>{});
      break;
    case 3:
      fn(std::integral_constant<int, 3>{});
      break;
    case 2:
      fn(std::integral_constant<int, 2>{});
      break;
    case 1:
      fn(std::integral_constant<int, 1>{});
      break;
    default:
      break;
  }
}

// R x-rows × C blocks of 16 outputs: R·C accumulators, each output summed over the pairs in order.
template <int R, int C>
inline void lane_tile(const uint16_t* xb, int64_t xs, const uint16_t* w, int64_t kp, int64_t first_row,
                      int64_t n, const float* bias, float* y) {
  const int64_t bs = kp * 2 * kLaneOutputs;  // elements per block
  __m512 acc[R][C];
#pragma GCC unroll 32
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 32
    for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
  for (int64_t p = 0; p < kp; ++p) {
    __m512bh wv[C];
#pragma GCC unroll 32
    for (int c = 0; c < C; ++c) {
      // The next tile's blocks, at the same offset: one tile ahead keeps enough lines in flight
      // for a 4-row tile to run at the bandwidth roofline (1 KB ahead per stream did not).
      _mm_prefetch(reinterpret_cast<const char*>(w + (c + C) * bs + p * 2 * kLaneOutputs), _MM_HINT_T0);
      wv[c] = (__m512bh)_mm512_loadu_si512(w + c * bs + p * 2 * kLaneOutputs);
    }
#pragma GCC unroll 32
    for (int r = 0; r < R; ++r) {
      int32_t pair;
      __builtin_memcpy(&pair, xb + r * xs + 2 * p, sizeof pair);
      const __m512bh xv = (__m512bh)_mm512_set1_epi32(pair);
#pragma GCC unroll 32
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_dpbf16_ps(acc[r][c], xv, wv[c]);
    }
  }
#pragma GCC unroll 32
  for (int c = 0; c < C; ++c) {
    const int64_t n0 = first_row + c * kLaneOutputs;
    const int64_t valid = std::min<int64_t>(kLaneOutputs, n - n0);
    if (valid <= 0) break;
    const auto mask = static_cast<__mmask16>(valid == kLaneOutputs ? 0xFFFFu : (1u << valid) - 1);
    const __m512 b = bias ? _mm512_maskz_loadu_ps(mask, bias + n0) : _mm512_setzero_ps();
#pragma GCC unroll 32
    for (int r = 0; r < R; ++r) _mm512_mask_storeu_ps(y + r * n + n0, mask, _mm512_add_ps(acc[r][c], b));
  }
}

// All rows [m0, m1) against the C blocks starting at `block`.
template <int C>
void lane_rows(const uint16_t* xb, int64_t xs, int64_t m0, int64_t m1, const uint16_t* lanes, int64_t block,
               int64_t n, int64_t kp, const float* bias, float* y) {
  const uint16_t* w = lanes + block * kp * 2 * kLaneOutputs;
  const int64_t first = block * kLaneOutputs;
  int64_t m = m0;
  for (; m + 4 <= m1; m += 4) lane_tile<4, C>(xb + m * xs, xs, w, kp, first, n, bias, y + m * n);
  with_count(m1 - m, [&](auto rows) {
    lane_tile<decltype(rows)::value, C>(xb + m * xs, xs, w, kp, first, n, bias, y + m * n);
  });
}

}  // namespace

void linear_lanes_bf16(const uint16_t* xb, int64_t m0, int64_t m1, const uint16_t* lanes, int64_t block0,
                       int64_t block1, int64_t n, int64_t k, const float* bias, float* y) {
  const int64_t kp = pairs_of(k), xs = 2 * kp;
  int64_t b = block0;
  if (m1 - m0 == 1) {
    // Decode: eight independent accumulation chains and W streams per pass.
    for (; b + 8 <= block1; b += 8) lane_rows<8>(xb, xs, m0, m1, lanes, b, n, kp, bias, y);
  }
  // Several rows: 4 × 5 accumulators (+ 5 W vectors and x) fit the 32 vector registers.
  for (; b + 5 <= block1; b += 5) lane_rows<5>(xb, xs, m0, m1, lanes, b, n, kp, bias, y);
  // The rest in one tile (a narrow layer, e.g. 8 blocks, would otherwise end in 1-block tiles:
  // one accumulation chain per row, latency-bound).
  with_count(block1 - b, [&](auto blocks) {
    lane_rows<decltype(blocks)::value>(xb, xs, m0, m1, lanes, b, n, kp, bias, y);
  });
}

#else

void linear_lanes_bf16(const uint16_t*, int64_t, int64_t, const uint16_t*, int64_t, int64_t, int64_t, int64_t,
                       const float*, float*) {}

#endif

}  // namespace sgl::engine::cpu
