// Quantized linear weights as the CPU kernels read them: one code per weight (fp8 e4m3, or an
// unsigned 4- / 8-bit integer with a zero point) and a float scale per output row and group of
// consecutive inputs: W[n][k] = (code − zero[n][g]) · scale[n][g], g = k / group (fp8: code · scale).
//
// Every checkpoint format is turned into this at load (engine/quant/): AWQ's and GPTQ's packed
// words and transposed scales, fp8's 128×128 block scales (repeated per row, so rows can be fused
// and sliced freely), GPTQ's act-order groups (inputs permuted so groups are contiguous). The
// kernel widens codes in registers next to the FMAs — no dequantized copy of W exists.
#pragma once

#include <cstdint>
#include <vector>

namespace sgl::engine::cpu {

enum class QuantCode : uint8_t {
  kF8E4M3,  // one byte, a float8_e4m3fn value (no zero point)
  kU4,      // 4-bit unsigned, two per byte: in each 16 inputs, byte j holds input j (low nibble) and j + 8
  kU8,      // one byte, unsigned (8-bit GPTQ, or 4-bit codes of a row length that is not a multiple of 16)
};

struct QuantWeight {
  int64_t n = 0, k = 0;
  QuantCode code = QuantCode::kU8;
  int64_t group = 0;  // inputs per scale (a multiple of 16 for kU4); the last group may be shorter
  std::vector<uint8_t> codes;
  std::vector<float> scales;  // n × groups()
  std::vector<float> zeros;   // n × groups(), empty for fp8
  // GPTQ act-order: rows [row0, the next segment's row0) read stored input j from x[perm[j]].
  struct PermSegment {
    int64_t row0 = 0;
    std::vector<int32_t> perm;
  };
  std::vector<PermSegment> perms;
  // The model computes in bf16: 4-bit codes may run through vdpbf16ps against activations rounded
  // to bf16 (as the bf16 GEMM rounds them), two inputs per lane — 3× fewer instructions per weight.
  bool bf16_activations = false;

  QuantWeight() = default;
  QuantWeight(int64_t n, int64_t k, QuantCode code, int64_t group, bool zero_points);
  int64_t groups() const { return (k + group - 1) / group; }
  int64_t row_bytes() const { return code == QuantCode::kU4 ? k / 2 : k; }
  int64_t bytes() const;
  void set(int64_t row, int64_t col, uint8_t code);  // code of W[row][col] (stored column order)
  uint8_t get(int64_t row, int64_t col) const;
  float dequant(int64_t row, int64_t col) const;  // tests and references
};

// y[M,N] = x[M,K] · Wᵀ (+ bias); every output accumulated in the same order for any M.
void quant_linear(const float* x, int64_t m, const QuantWeight& w, const float* bias, float* y);

}  // namespace sgl::engine::cpu
