// bf16 × bf16 → fp32 GEMM on Intel AMX (TDPBF16PS: a 16×16 fp32 tile += 16×32 bf16 · 32×16 bf16
// per instruction, ~10× the FLOPs of AVX512-BF16 on the same core). Used for every bf16 weight
// when the CPU has AMX and the kernel grants this process the tile state.
//
// The weight is laid out as AMX "B" tiles: for each block of 16 outputs and each 32-wide chunk of
// K, a 16 × 64-byte tile holding (k, k+1) pairs of the 16 outputs (VNNI order), zero padded. The
// activations are rounded to bf16 once per row (as for the AVX512-BF16 kernel) into rows padded to
// whole chunks. Every output is acc += tile product of chunk c for c = 0, 1, … in order, and a row
// never mixes with another: each row's result is the same whatever M, the rows beside it, or the
// threads' split — batch-invariant, but a different summation than the AVX512 kernels.
#pragma once

#include <cstdint>

namespace sgl::engine::cpu {

#if defined(__AMX_TILE__) && defined(__AMX_BF16__)
constexpr bool kHaveAmxBuild = true;
#else
constexpr bool kHaveAmxBuild = false;
#endif

// Built with AMX and the kernel let this process use the tile data (asked once, process-wide).
// SGLCPP_DISABLE_AMX=1 turns it off (the AVX512 kernels then run).
bool amx_available();

// Elements of W [n, k] in the AMX layout: ceil(n/16) × ceil(k/32) tiles of 512.
int64_t amx_layout_elements(int64_t n, int64_t k);
// Row-major bf16 W [n, k] → AMX layout (dst holds amx_layout_elements), and back.
void to_amx_layout(const uint16_t* row_major, int64_t n, int64_t k, uint16_t* amx);
void from_amx_layout(const uint16_t* amx, int64_t n, int64_t k, uint16_t* row_major);

// y[m, n] = x[m, k] (fp32, rounded to bf16 per row) · Wᵀ (+ bias), W in the AMX layout. Parallel.
void linear_amx(const float* x, int64_t m, const uint16_t* amx, int64_t n, int64_t k, const float* bias,
                float* y);

}  // namespace sgl::engine::cpu
