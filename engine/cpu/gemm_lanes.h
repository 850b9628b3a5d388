// A bf16 weight laid out "outputs in lanes": 16 consecutive output rows of W share each SIMD
// vector, as 16 (k, k+1) pairs. y = x · Wᵀ then accumulates 16 outputs per vdpbf16ps with x's
// pair broadcast, and no output needs a horizontal reduction (the row-major kernel of
// gemm_bf16.cpp spends about a third of its instructions reducing when K is short). Used for a
// small model's LM head: wide, short K, and read by 4-row verify steps of speculative decoding.
//
// Every output is acc = dpbf16(acc, x pair p, w pair p) for p = 0, 1, … in order, whatever the
// tile or M: batch-invariant like every kernel here (but a different order than the row-major
// kernel, so a weight's results change when it is laid out in lanes).
#pragma once

#include <cstdint>

namespace sgl::engine::cpu {

constexpr int64_t kLaneOutputs = 16;  // outputs per vector

// Elements of W [n, k] in the lane layout: ceil(n/16) blocks × ceil(k/2) pairs × 32, zero padded.
int64_t lane_layout_elements(int64_t n, int64_t k);
// Row-major bf16 W [n, k] → lane layout (dst holds lane_layout_elements), and back.
void to_lane_layout(const uint16_t* row_major, int64_t n, int64_t k, uint16_t* lanes);
void from_lane_layout(const uint16_t* lanes, int64_t n, int64_t k, uint16_t* row_major);

// y[m0:m1, block0·16 : block1·16 ∩ [0, n)] (row stride n) = xb[m0:m1] · Wᵀ (+ bias).
// xb: bf16 rows of stride 2·ceil(k/2), zero padded past k.
void linear_lanes_bf16(const uint16_t* xb, int64_t m0, int64_t m1, const uint16_t* lanes, int64_t block0,
                       int64_t block1, int64_t n, int64_t k, const float* bias, float* y);

}  // namespace sgl::engine::cpu
