// The quantized GEMM against a double-precision reference on ragged shapes (M = 1…300, K not a
// multiple of the group, fp8 / 4-bit / 8-bit codes, act-order permutations), and M-invariance.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>
#include <tuple>

#include "engine/cpu/kernels.h"
#include "engine/cpu/quant_weight.h"
#include "engine/dtype.h"

namespace sgl::engine::cpu {
namespace {

QuantWeight random_weight(int64_t n, int64_t k, QuantCode code, int64_t group, bool permute, uint32_t seed) {
  std::mt19937 rng(seed);
  QuantWeight w(n, k, code, group, code != QuantCode::kF8E4M3);
  std::uniform_real_distribution<float> scale(0.001f, 0.02f);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < k; ++c) {
      uint8_t v = static_cast<uint8_t>(rng() & (code == QuantCode::kU4 ? 0xf : 0xff));
      if (code == QuantCode::kF8E4M3 && (v & 0x7f) == 0x7f) v &= 0xfe;  // no NaNs in a weight
      w.set(r, c, v);
    }
  for (auto& s : w.scales) s = scale(rng);
  for (auto& z : w.zeros) z = static_cast<float>(rng() % (code == QuantCode::kU4 ? 16 : 256));
  if (permute) {
    std::vector<int32_t> p(static_cast<size_t>(k));
    std::iota(p.begin(), p.end(), 0);
    std::shuffle(p.begin(), p.end(), rng);
    w.perms.push_back({0, {}});
    w.perms.push_back({n / 2, p});  // the second half of the rows reads its inputs permuted
  }
  return w;
}

double reference(const std::vector<float>& x, int64_t row, const QuantWeight& w, int64_t n) {
  const std::vector<int32_t>* perm = nullptr;
  for (const auto& s : w.perms)
    if (n >= s.row0 && !s.perm.empty())
      perm = &s.perm;
    else if (n >= s.row0)
      perm = nullptr;
  double acc = 0;
  for (int64_t j = 0; j < w.k; ++j) {
    const int64_t src = perm ? (*perm)[j] : j;
    acc += static_cast<double>(x[row * w.k + src]) * w.dequant(n, j);
  }
  return acc;
}

void check(QuantCode code, int64_t n, int64_t k, int64_t group, bool permute) {
  const QuantWeight w = random_weight(n, k, code, group, permute, static_cast<uint32_t>(n * 131 + k));
  const PackedWeight pw = PackedWeight::quantized(w);
  std::mt19937 rng(7);
  std::normal_distribution<float> nd;
  for (int64_t m : {1, 3, 17, 300}) {
    std::vector<float> x(static_cast<size_t>(m * k));
    for (auto& v : x) v = nd(rng);
    std::vector<float> y(static_cast<size_t>(m * n));
    linear(x.data(), m, pw, nullptr, y.data());
    for (int64_t r = 0; r < m; r += std::max<int64_t>(1, m / 7))
      for (int64_t c = 0; c < n; ++c) {
        const double want = reference(x, r, w, c);
        ASSERT_NEAR(y[r * n + c], want, 1e-4 * (1.0 + std::fabs(want)))
            << "code " << static_cast<int>(code) << " m " << m << " n " << n << " k " << k << " row " << r;
      }
    // The same row alone gives the same bits (M-invariance).
    std::vector<float> one(static_cast<size_t>(n));
    linear(x.data() + (m - 1) * k, 1, pw, nullptr, one.data());
    EXPECT_TRUE(std::equal(one.begin(), one.end(), y.begin() + (m - 1) * n)) << "m " << m;
  }
}

TEST(QuantGemm, Fp8RaggedShapes) {
  check(QuantCode::kF8E4M3, 33, 200, 128, false);  // a partial last block of 72 inputs
  check(QuantCode::kF8E4M3, 130, 128, 128, false);
}
TEST(QuantGemm, Int4Groups) {
  check(QuantCode::kU4, 40, 256, 64, false);
  check(QuantCode::kU4, 17, 96, 32, true);
}
TEST(QuantGemm, Int8GroupsAndOddLengths) {
  check(QuantCode::kU8, 24, 160, 128, false);  // a last group of 32
  check(QuantCode::kU8, 9, 70, 32, true);      // K not a multiple of 16
}

// A bf16 model's 4-bit weights run through vdpbf16ps on bf16-rounded activations (where the CPU has
// AVX512-BF16; elsewhere the fp32 path): against a double reference on the same rounded x.
TEST(QuantGemm, Int4AndFp8WithBf16Activations) {
  for (auto [code, n, k, group] :
       {std::tuple<QuantCode, int64_t, int64_t, int64_t>{QuantCode::kU4, 48, 256, 128},
        {QuantCode::kU4, 21, 96, 32},
        {QuantCode::kF8E4M3, 40, 256, 128},
        {QuantCode::kF8E4M3, 9, 64, 32}}) {
    QuantWeight w = random_weight(n, k, code, group, false, static_cast<uint32_t>(k + n));
    w.bf16_activations = true;
    const PackedWeight pw = PackedWeight::quantized(w);
    std::mt19937 rng(3);
    std::normal_distribution<float> nd;
    for (int64_t m : {1, 5, 70}) {
      std::vector<float> x(static_cast<size_t>(m * k)), xr(x.size());
      for (size_t i = 0; i < x.size(); ++i) {
        x[i] = nd(rng);
        xr[i] = bf16_to_f32(f32_to_bf16(x[i]));
      }
      std::vector<float> y(static_cast<size_t>(m * n));
      linear(x.data(), m, pw, nullptr, y.data());
      for (int64_t r = 0; r < m; ++r)
        for (int64_t c = 0; c < n; ++c) {
          double want = 0, mag = 0;
          for (int64_t j = 0; j < k; ++j) {
            want += static_cast<double>(xr[r * k + j]) * w.dequant(c, j);
            // |x|·s·(128 + c) for 4-bit codes (what cancels); |x·w| for fp8
            mag +=
                std::fabs(xr[r * k + j]) * (code == QuantCode::kU4 ? 0.02 * 144 : std::fabs(w.dequant(c, j)));
          }
          ASSERT_NEAR(y[r * n + c], want, 1e-6 * mag + 1e-4) << "m " << m << " n " << c << " k " << k;
        }
      std::vector<float> one(static_cast<size_t>(n));
      linear(x.data(), 1, pw, nullptr, one.data());
      EXPECT_TRUE(std::equal(one.begin(), one.end(), y.begin())) << "m " << m;
    }
  }
}

TEST(QuantGemm, Fp8DecodeIsExact) {
  for (int v = 0; v < 256; ++v) {
    const float f = f8e4m3_to_f32(static_cast<uint8_t>(v));
    if (std::isnan(f)) {
      EXPECT_EQ(v & 0x7f, 0x7f);
      continue;
    }
    EXPECT_EQ(f32_to_f8e4m3(f), static_cast<uint8_t>(v)) << v;  // every code round-trips
  }
  EXPECT_EQ(f8e4m3_to_f32(0x7e), 448.0f);
  EXPECT_EQ(f8e4m3_to_f32(0x01), std::ldexp(1.0f, -9));  // smallest subnormal
  EXPECT_EQ(f32_to_f8e4m3(1e30f), 0x7e);                 // saturates
  EXPECT_EQ(f32_to_f8e4m3(-449.0f), 0xfe);
}

}  // namespace
}  // namespace sgl::engine::cpu
