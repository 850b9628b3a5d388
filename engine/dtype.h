// Element types of tensors and their conversions (bf16/f16 are stored as raw 16-bit words).
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace sgl::engine {

// kF32/kBF16/kF16: float tensors (activations, weights, KV). The rest occur in quantized
// checkpoints only: fp8 weights (F8_E4M3), GPTQ/AWQ packed words (I32), int8 weights.
enum class DType : uint8_t { kF32, kBF16, kF16, kF8E4M3, kF8E5M2, kI8, kU8, kI32 };

constexpr int64_t dtype_size(DType t) {
  switch (t) {
    case DType::kF32:
    case DType::kI32:
      return 4;
    case DType::kBF16:
    case DType::kF16:
      return 2;
    default:
      return 1;
  }
}
constexpr bool is_float_dtype(DType t) { return t == DType::kF32 || t == DType::kBF16 || t == DType::kF16; }
std::string_view dtype_name(DType t);

inline float bf16_to_f32(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Round-to-nearest-even, NaN preserved (as torch does).
inline uint16_t f32_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);

// OCP float8 (torch's float8_e4m3fn: no infinities, 0x7f/0xff NaN, max 448; float8_e5m2: IEEE-like).
float f8e4m3_to_f32(uint8_t v);
float f8e5m2_to_f32(uint8_t v);
// Round to nearest even; beyond ±448 saturates to ±448 (as torch's to(float8_e4m3fn) after a
// clamp, what quantizers do); NaN → 0x7f with the sign.
uint8_t f32_to_f8e4m3(float f);
// Round to nearest even through the half; beyond the range → ±inf (e5m2 has infinities).
uint8_t f32_to_f8e5m2(float f);

}  // namespace sgl::engine
