#include "engine/dtype.h"

#include <cmath>

namespace sgl::engine {

std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::kF32:
      return "float32";
    case DType::kBF16:
      return "bfloat16";
    case DType::kF16:
      return "float16";
    case DType::kF8E4M3:
      return "float8_e4m3fn";
    case DType::kF8E5M2:
      return "float8_e5m2";
    case DType::kI8:
      return "int8";
    case DType::kU8:
      return "uint8";
    case DType::kI32:
      return "int32";
  }
  return "?";
}

float f16_to_f32(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400u) == 0);
      bits = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | ((mant & 0x3ffu) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t f32_to_f16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  uint32_t sign = (bits >> 16) & 0x8000u;
  if (std::isnan(f)) return static_cast<uint16_t>(sign | 0x7e00u);
  float a = std::fabs(f);
  if (a >= 65520.0f) return static_cast<uint16_t>(sign | 0x7c00u);
  if (a < 6.103515625e-05f) {                                         // subnormal half
    auto m = static_cast<uint32_t>(std::nearbyint(a * 16777216.0f));  // a / 2^-24
    return static_cast<uint16_t>(sign | m);
  }
  uint32_t e = ((bits >> 23) & 0xffu) - 127 + 15;
  uint32_t mant = bits & 0x7fffffu;
  uint32_t h = (e << 10) | (mant >> 13);
  uint32_t rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;  // round to nearest even
  return static_cast<uint16_t>(sign | h);
}

float f8e4m3_to_f32(uint8_t v) {
  const uint32_t sign = (v & 0x80u) << 24, e = (v >> 3) & 0xfu, m = v & 7u;
  if (e == 15 && m == 7) return std::copysign(std::nanf(""), sign ? -1.0f : 1.0f);
  float a = e == 0 ? std::ldexp(static_cast<float>(m), -9)  // subnormal: m · 2^-6 / 8
                   : std::ldexp(1.0f + static_cast<float>(m) / 8.0f, static_cast<int>(e) - 7);
  return sign ? -a : a;
}

float f8e5m2_to_f32(uint8_t v) { return f16_to_f32(static_cast<uint16_t>(v) << 8); }

uint8_t f32_to_f8e4m3(float f) {
  const uint8_t sign = std::signbit(f) ? 0x80 : 0;
  if (std::isnan(f)) return sign | 0x7f;
  const float a = std::fabs(f);
  if (a >= 448.0f) return sign | 0x7e;  // saturate
  // Nearest even among the representable magnitudes: subnormals step 2^-9 below 2^-6; normals
  // have 3 mantissa bits.
  int e;
  std::frexp(a, &e);                    // a = fr · 2^e, fr in [0.5, 1)
  const int exp = std::max(e - 1, -6);  // unbiased exponent of the candidate grid
  const float step = std::ldexp(1.0f, exp - 3);
  const float q = std::nearbyint(a / step) * step;  // FE_TONEAREST: ties to even
  if (q == 0.0f) return sign;
  int qe;
  std::frexp(q, &qe);
  const int ue = qe - 1;
  if (ue < -6)
    return static_cast<uint8_t>(sign | static_cast<uint8_t>(q / std::ldexp(1.0f, -9)));  // subnormal
  const auto mant = static_cast<uint32_t>((q / std::ldexp(1.0f, ue) - 1.0f) * 8.0f);
  return static_cast<uint8_t>(sign | ((ue + 7) << 3) | mant);
}

uint8_t f32_to_f8e5m2(float f) {
  // e5m2 is a half without its low 8 mantissa bits: round the half to nearest even at bit 8.
  // Rounding f32 → f16 → e5m2 could double-round; a value exactly between two e5m2 numbers only
  // after the first rounding is rare enough for a KV cache (SGLang's cast does the same).
  const uint16_t h = f32_to_f16(f);
  if ((h & 0x7c00u) == 0x7c00u)
    return static_cast<uint8_t>((h >> 8) | ((h & 0x3ffu) ? 0x02 : 0));  // inf / NaN
  const uint32_t r = h + 0x7fu + ((h >> 8) & 1u);
  return static_cast<uint8_t>(r >> 8);
}

}  // namespace sgl::engine
