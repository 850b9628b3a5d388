// Quantizing a float model's linear weights at load (--quantization on an unquantized checkpoint,
// and dummy weights sized as a quantized deployment would be).
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "engine/cpu/kernels.h"
#include "engine/quant/quant_config.h"

namespace sgl::engine {

enum class OnlineQuant {
  kNone,
  kFp8,   // float8_e4m3fn weights, one scale per row and 128 inputs (amax / 448)
  kInt4,  // 4-bit round-to-nearest with a zero point per row and 128 inputs (AWQ / GPTQ's storage)
};

// What --quantization asks of a checkpoint quantized as `checkpoint` ("" = nothing): kNone when the
// checkpoint already is (the flag must then agree, with SGLang's message otherwise) — except for
// dummy weights of a quantized config, which are made in its format. fp8 applies to
// any float checkpoint; the 4-bit formats, which need calibration data to make for real, only to
// dummy weights (sizing and benchmarks).
Result<OnlineQuant> online_quantization(const QuantConfig& checkpoint, const std::string& flag, bool dummy);

// `w` (float, any layout) as a quantized weight.
cpu::PackedWeight quantize_weight(const cpu::PackedWeight& w, OnlineQuant how);

}  // namespace sgl::engine
