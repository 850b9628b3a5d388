#include "engine/quant/online_quant.h"

#include <fmt/format.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>

#include "engine/cpu/quant_weight.h"
#include "engine/dtype.h"

namespace sgl::engine {

Result<OnlineQuant> online_quantization(const QuantConfig& checkpoint, const std::string& flag, bool dummy) {
  SGL_TRY(check_quantization_flag(checkpoint, flag));
  if (checkpoint.quantized()) {
    if (!dummy) return OnlineQuant::kNone;  // the checkpoint's own quantized tensors are read
    // Dummy weights for a quantized config (a Qwen3-*-FP8 / -AWQ config or preset): held as that
    // format would hold them, so memory and speed are the deployment's.
    return checkpoint.method == QuantConfig::Method::kFp8 ? OnlineQuant::kFp8 : OnlineQuant::kInt4;
  }
  if (flag.empty()) return OnlineQuant::kNone;
  if (flag == "fp8") return OnlineQuant::kFp8;
  if ((flag == "awq" || flag == "gptq" || flag == "awq_marlin" || flag == "gptq_marlin") && dummy)
    return OnlineQuant::kInt4;
  if (flag == "awq" || flag == "gptq")
    return unsupported(fmt::format(
        "--quantization {}: {} weights are made offline with calibration data; load a {} checkpoint instead",
        flag, flag, flag));
  return unsupported(
      fmt::format("--quantization {}: not implemented yet (fp8, or a pre-quantized fp8 / awq / gptq "
                  "checkpoint)",
                  flag));
}

cpu::PackedWeight quantize_weight(const cpu::PackedWeight& w, OnlineQuant how) {
  constexpr int64_t kGroup = 128;
  const int64_t n = w.n(), k = w.k();
  const bool fp8 = how == OnlineQuant::kFp8;
  const cpu::QuantCode code =
      fp8 ? cpu::QuantCode::kF8E4M3 : (k % 16 == 0 ? cpu::QuantCode::kU4 : cpu::QuantCode::kU8);
  cpu::QuantWeight q(n, k, code, kGroup, !fp8);
  std::vector<uint16_t> scratch;
  const void* rows = w.row_major_data(scratch);
  const bool f32 = w.dtype() == DType::kF32;
  const int64_t ng = q.groups();
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, n, 16), [&](const tbb::blocked_range<int64_t>& r) {
    std::vector<float> row(static_cast<size_t>(k));
    for (int64_t i = r.begin(); i < r.end(); ++i) {
      for (int64_t j = 0; j < k; ++j)
        row[j] = f32 ? static_cast<const float*>(rows)[i * k + j]
                     : bf16_to_f32(static_cast<const uint16_t*>(rows)[i * k + j]);
      for (int64_t g = 0; g < ng; ++g) {
        const int64_t k0 = g * kGroup, k1 = std::min(k, k0 + kGroup);
        float lo = 0.0f, hi = 0.0f;
        for (int64_t j = k0; j < k1; ++j) lo = std::min(lo, row[j]), hi = std::max(hi, row[j]);
        if (fp8) {
          const float s = std::max(-lo, hi) / 448.0f;
          q.scales[i * ng + g] = s > 0 ? s : 1.0f;
          for (int64_t j = k0; j < k1; ++j) q.set(i, j, f32_to_f8e4m3(row[j] / q.scales[i * ng + g]));
        } else {
          // Asymmetric 4-bit round to nearest: W ≈ (c − z)·s with c in [0, 15].
          const float s = (hi - lo) / 15.0f > 0 ? (hi - lo) / 15.0f : 1.0f;
          const float z = std::nearbyint(-lo / s);
          q.scales[i * ng + g] = s;
          q.zeros[i * ng + g] = z;
          for (int64_t j = k0; j < k1; ++j)
            q.set(i, j, static_cast<uint8_t>(std::clamp(std::nearbyint(row[j] / s + z), 0.0f, 15.0f)));
        }
      }
    }
  });
  return cpu::PackedWeight::quantized(std::move(q));
}

}  // namespace sgl::engine
