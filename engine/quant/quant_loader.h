// Reads a pre-quantized checkpoint's linear weights (fp8 block-wise, AWQ, GPTQ) into the CPU
// kernels' quantized layout (engine/cpu/quant_weight.h), one tensor-parallel block at a time.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "engine/cpu/kernels.h"
#include "engine/quant/quant_config.h"
#include "engine/safetensors.h"

namespace sgl::engine {

// Whether the linear `base` (its name without ".weight") is stored quantized: decided per tensor
// from what the checkpoint holds (fp8: an F8_E4M3 weight with its weight_scale_inv; AWQ / GPTQ: a
// qweight), so modules_to_not_convert need not be trusted.
bool is_quantized_linear(const WeightFiles& f, const QuantConfig& q, const std::string& base);

// Rows [r0, r0 + nr) × inputs [c0, c0 + w.k()) of the [rows, cols] linear `base` into rows
// [dst_row0, dst_row0 + nr) of `w`, which becomes quantized on its first block (every block of a
// fused weight must share the format and group). Errors name the tensor and what is wrong with it
// (missing scales, shapes, dtypes, a slice that splits a quantization group).
Status load_quantized_block(const WeightFiles& f, const QuantConfig& q, const std::string& base, int64_t rows,
                            int64_t cols, int64_t r0, int64_t nr, int64_t c0, int64_t dst_row0,
                            cpu::PackedWeight& w, bool dry);

}  // namespace sgl::engine
