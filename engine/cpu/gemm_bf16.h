// bf16 × bf16 → fp32 matmul blocks on AVX512-BF16 (vdpbf16ps: 32 multiply-adds per instruction).
// Used for bf16 weights when the CPU has the extension: activations are rounded to bf16 once per
// row, then every output element is the same fixed sequence of dot-product steps whatever M is —
// the batch-invariance contract of simd.h holds here too.
#pragma once

#include <cstdint>

namespace sgl::engine::cpu {

#if defined(__AVX512BF16__)
constexpr bool kHaveBf16Dot = true;
#else
constexpr bool kHaveBf16Dot = false;
#endif

// y[m, n0:n1] (row stride n_total) = xb[m0:m1] (bf16, row stride k) · w[n0:n1]ᵀ (+ bias).
void linear_block_bf16(const uint16_t* xb, int64_t m0, int64_t m1, const uint16_t* w, int64_t n0, int64_t n1,
                       int64_t k, int64_t n_total, const float* bias, float* y);

}  // namespace sgl::engine::cpu
