// linear(): values against a double-precision reference, and the batch-invariance contract (each
// output row bitwise identical whatever M is).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "engine/cpu/kernels.h"
#include "engine/cpu/simd.h"

namespace sgl::engine::cpu {
namespace {

std::vector<float> random_floats(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-scale, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

std::vector<uint16_t> to_bf16(const std::vector<float>& v) {
  std::vector<uint16_t> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = f32_to_bf16(v[i]);
  return out;
}

struct Case {
  int64_t m, n, k;
  bool bias;
  DType compute;
  bool lanes = false;  // the weight laid out in output lanes (gemm_lanes.h)
  bool amx = false;    // the weight laid out in AMX tiles (gemm_amx.h)
};

// The weight as stored (bf16 rounds it) is the reference's weight; with bf16 weights the kernel
// may also round activations to bf16 (relative error 2^-9 each), so the bound scales with Σ|x·w|.
void check_linear(const Case& c) {
  SCOPED_TRACE(::testing::Message() << "m=" << c.m << " n=" << c.n << " k=" << c.k << " bias=" << c.bias
                                    << " dtype=" << dtype_name(c.compute) << " lanes=" << c.lanes);
  auto x = random_floats(static_cast<size_t>(c.m * c.k), 1);
  auto w = random_floats(static_cast<size_t>(c.n * c.k), 2, 0.5f);
  auto b = random_floats(static_cast<size_t>(c.n), 3);
  auto pw = PackedWeight::pack(w.data(), DType::kF32, c.n, c.k, c.compute);
  if (c.lanes) {
    pw.use_output_lanes();
    if (!pw.output_lanes()) GTEST_SKIP() << "no AVX512-BF16 on this CPU: output lanes unused";
  }
  if (c.amx) {
    pw.use_amx_tiles();
    if (!pw.amx_tiles()) GTEST_SKIP() << "no AMX on this CPU (or the OS refused it): AMX tiles unused";
  }
  ASSERT_EQ(pw.n(), c.n);
  ASSERT_EQ(pw.k(), c.k);
  ASSERT_EQ(pw.dtype(), c.compute);
  ASSERT_EQ(pw.bytes(), c.n * c.k * dtype_size(c.compute));
  std::vector<float> y(static_cast<size_t>(c.m * c.n), NAN);
  linear(x.data(), c.m, pw, c.bias ? b.data() : nullptr, y.data());
  const double act_rel = c.compute == DType::kBF16 ? 1.0 / 256 : 0.0;
  for (int64_t i = 0; i < c.m; ++i) {
    for (int64_t j = 0; j < c.n; ++j) {
      double ref = c.bias ? b[j] : 0.0, mag = 0.0;
      for (int64_t t = 0; t < c.k; ++t) {
        double wv = c.compute == DType::kBF16 ? bf16_to_f32(f32_to_bf16(w[j * c.k + t])) : w[j * c.k + t];
        ref += static_cast<double>(x[i * c.k + t]) * wv;
        mag += std::fabs(x[i * c.k + t] * wv);
      }
      const double tol = mag * (act_rel + 1e-6) + 1e-5;
      ASSERT_NEAR(y[i * c.n + j], ref, tol) << "row " << i << " col " << j;
    }
  }
}

TEST(KernelsGemm, LinearF32MatchesDoubleReference) {
  for (Case c : {Case{1, 37, 64, false, DType::kF32}, Case{3, 70, 100, true, DType::kF32},
                 Case{9, 65, 33, true, DType::kF32}, Case{17, 128, 256, false, DType::kF32},
                 Case{2, 5, 7, true, DType::kF32}})
    check_linear(c);
}

TEST(KernelsGemm, LinearBf16MatchesDoubleReference) {
  for (Case c : {Case{1, 37, 64, false, DType::kBF16}, Case{3, 70, 100, true, DType::kBF16},
                 Case{9, 65, 33, true, DType::kBF16}, Case{17, 128, 256, false, DType::kBF16},
                 Case{2, 5, 7, true, DType::kBF16}})
    check_linear(c);
}

TEST(KernelsGemm, LinearBf16InOutputLanesMatchesDoubleReference) {
  // n not a multiple of 16 (partial last block), odd k (a padded pair), M across the 4-row tiles.
  for (Case c : {Case{1, 37, 64, false, DType::kBF16, true}, Case{3, 70, 100, true, DType::kBF16, true},
                 Case{9, 65, 33, true, DType::kBF16, true}, Case{17, 128, 256, false, DType::kBF16, true},
                 Case{2, 5, 7, true, DType::kBF16, true}, Case{6, 1000, 128, true, DType::kBF16, true}})
    check_linear(c);
}

TEST(KernelsGemm, LinearBf16InAmxTilesMatchesDoubleReference) {
  // n and k not multiples of 16 / 32 (padded tiles), M across the 16-row A tiles and 2×2 blocks.
  for (Case c :
       {Case{1, 37, 64, false, DType::kBF16, false, true}, Case{3, 70, 100, true, DType::kBF16, false, true},
        Case{9, 65, 33, true, DType::kBF16, false, true},
        Case{17, 128, 256, false, DType::kBF16, false, true}, Case{2, 5, 7, true, DType::kBF16, false, true},
        Case{40, 1000, 128, true, DType::kBF16, false, true},
        Case{33, 48, 1024, false, DType::kBF16, false, true}})
    check_linear(c);
}

// A layout (output lanes, AMX tiles) is an internal re-arrangement: the rows read back bit for bit,
// mutable_data() returns the weight to rows, and reload() keeps the layout. False: the layout is
// not available on this CPU.
bool check_relayout(int64_t n, int64_t k, void (PackedWeight::*lay_out)(),
                    bool (PackedWeight::*laid)() const) {
  auto wb = to_bf16(random_floats(static_cast<size_t>(n * k), 9));
  auto pw = PackedWeight::pack(wb.data(), DType::kBF16, n, k, DType::kBF16);
  (pw.*lay_out)();
  if (!(pw.*laid)()) return false;
  std::vector<uint16_t> scratch;
  EXPECT_EQ(std::memcmp(pw.row_major_data(scratch), wb.data(), wb.size() * 2), 0);
  auto x = random_floats(static_cast<size_t>(3 * k), 10);
  std::vector<float> y1(static_cast<size_t>(3 * n)), y2(y1.size());
  auto w2 = to_bf16(random_floats(static_cast<size_t>(n * k), 11));
  pw.reload(w2.data(), DType::kBF16);
  EXPECT_TRUE((pw.*laid)());
  EXPECT_EQ(std::memcmp(pw.row_major_data(scratch), w2.data(), w2.size() * 2), 0);
  auto fresh = PackedWeight::pack(w2.data(), DType::kBF16, n, k, DType::kBF16);
  (fresh.*lay_out)();
  linear(x.data(), 3, pw, nullptr, y1.data());
  linear(x.data(), 3, fresh, nullptr, y2.data());
  EXPECT_EQ(std::memcmp(y1.data(), y2.data(), y1.size() * 4), 0);
  EXPECT_EQ(std::memcmp(pw.mutable_data(), w2.data(), w2.size() * 2), 0);
  EXPECT_FALSE((pw.*laid)()) << "a loader writing rows gets the weight back in rows";
  return true;
}

TEST(KernelsGemm, AmxTilesKeepTheRowsAndReloadKeepsTheLayout) {
  if (!check_relayout(37, 70, &PackedWeight::use_amx_tiles, &PackedWeight::amx_tiles))
    GTEST_SKIP() << "no AMX on this CPU (or the OS refused it): AMX tiles unused";
}

TEST(KernelsGemm, OutputLanesKeepTheRowsAndReloadKeepsTheLayout) {
  if (!check_relayout(37, 33, &PackedWeight::use_output_lanes, &PackedWeight::output_lanes))
    GTEST_SKIP() << "no AVX512-BF16 on this CPU: output lanes unused";
}

TEST(KernelsGemm, PackFromBf16SourceKeepsBitsAndReloadRewrites) {
  const int64_t n = 9, k = 40;
  auto w = random_floats(static_cast<size_t>(n * k), 4);
  auto wb = to_bf16(w);
  auto pw = PackedWeight::pack(wb.data(), DType::kBF16, n, k, DType::kBF16);
  EXPECT_EQ(std::memcmp(pw.mutable_data(), wb.data(), wb.size() * 2), 0);
  // Same weight as f32 compute: exactly the widened bf16 values.
  auto pf = PackedWeight::pack(wb.data(), DType::kBF16, n, k, DType::kF32);
  const float* f = static_cast<const float*>(pf.mutable_data());
  for (size_t i = 0; i < wb.size(); ++i) ASSERT_EQ(f[i], bf16_to_f32(wb[i]));
  // reload: new values in place, same allocation.
  void* before = pf.mutable_data();
  auto w2 = random_floats(static_cast<size_t>(n * k), 5);
  pf.reload(w2.data(), DType::kF32);
  EXPECT_EQ(pf.mutable_data(), before);
  EXPECT_EQ(std::memcmp(pf.mutable_data(), w2.data(), w2.size() * 4), 0);
}

// The vector row conversion GEMMs round their activations with is the scalar f32_to_bf16 bit for
// bit: ties to even, subnormals, infinities and NaNs (kept quiet), in the body and the tail.
TEST(KernelsGemm, RowConversionToBf16EqualsScalar) {
  std::mt19937 rng(9);
  std::vector<uint32_t> bits(1000);
  for (auto& b : bits) b = rng();
  for (uint32_t special :
       {0x00000000u, 0x80000000u, 0x00000001u, 0x807fffffu, 0x3f808000u, 0x3f818000u, 0x3f80ffffu,
        0x7f7fffffu, 0x7f800000u, 0xff800000u, 0x7f800001u, 0xffc00000u, 0x7fbfffffu, 0x477fefffu})
    bits.push_back(special);
  std::vector<float> x(bits.size());
  std::memcpy(x.data(), bits.data(), bits.size() * 4);
  for (size_t n : {bits.size(), size_t{15}, size_t{17}}) {
    std::vector<uint16_t> got(n);
    f32_to_bf16_row(x.data() + (bits.size() - n), static_cast<int64_t>(n), got.data());
    for (size_t i = 0; i < n; ++i)
      ASSERT_EQ(got[i], f32_to_bf16(x[bits.size() - n + i])) << std::hex << bits[bits.size() - n + i];
  }
}

TEST(KernelsGemm, ConvertTensorRoundsToNearestEven) {
  std::vector<float> src = {1.0f, -2.5f, 3.14159265f, 1e-30f, 65504.0f, 0.0f};
  std::vector<uint16_t> bf(src.size());
  convert_tensor(src.data(), DType::kF32, static_cast<int64_t>(src.size()), DType::kBF16, bf.data());
  for (size_t i = 0; i < src.size(); ++i) {
    EXPECT_EQ(bf[i], f32_to_bf16(src[i]));
    EXPECT_NEAR(bf16_to_f32(bf[i]), src[i], std::fabs(src[i]) / 256);
  }
  // f16 → f32: 1.0 is 0x3c00, -2 is 0xc000, 65504 is 0x7bff.
  std::vector<uint16_t> h = {0x3c00, 0xc000, 0x7bff, 0x0001};
  std::vector<float> out(h.size());
  convert_tensor(h.data(), DType::kF16, 4, DType::kF32, out.data());
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -2.0f);
  EXPECT_EQ(out[2], 65504.0f);
  EXPECT_EQ(out[3], std::ldexp(1.0f, -24));  // smallest subnormal
}

// Every row of y for M = 1, 37 and 300 (different tilings and thread splits) is bitwise the same
// as computing that row alone.
void check_invariance(DType compute, bool bias, bool lanes = false, bool amx = false) {
  SCOPED_TRACE(::testing::Message() << dtype_name(compute) << " lanes=" << lanes << " amx=" << amx);
  const int64_t n = 200, k = 136;  // n, k not multiples of the tile sizes: tails exercised
  auto x = random_floats(static_cast<size_t>(300 * k), 6);
  auto w = random_floats(static_cast<size_t>(n * k), 7);
  auto b = random_floats(static_cast<size_t>(n), 8);
  auto pw = PackedWeight::pack(w.data(), DType::kF32, n, k, compute);
  if (lanes) {
    pw.use_output_lanes();
    if (!pw.output_lanes()) GTEST_SKIP() << "no AVX512-BF16 on this CPU: output lanes unused";
  }
  if (amx) {
    pw.use_amx_tiles();
    if (!pw.amx_tiles()) GTEST_SKIP() << "no AMX on this CPU (or the OS refused it): AMX tiles unused";
  }
  const float* bp = bias ? b.data() : nullptr;
  std::vector<float> big(static_cast<size_t>(300 * n));
  linear(x.data(), 300, pw, bp, big.data());
  std::vector<float> mid(static_cast<size_t>(37 * n));
  linear(x.data() + 100 * k, 37, pw, bp, mid.data());  // rows 100..136 of the big batch
  std::vector<float> one(static_cast<size_t>(n));
  for (int64_t r : {0, 5, 100, 117, 136, 299}) {
    linear(x.data() + r * k, 1, pw, bp, one.data());
    ASSERT_EQ(std::memcmp(one.data(), big.data() + r * n, n * 4), 0) << "row " << r << " M=1 vs M=300";
    if (r >= 100 && r < 137) {
      ASSERT_EQ(std::memcmp(one.data(), mid.data() + (r - 100) * n, n * 4), 0)
          << "row " << r << " M=1 vs M=37";
    }
  }
  for (int64_t r = 0; r < 37; ++r)
    ASSERT_EQ(std::memcmp(mid.data() + r * n, big.data() + (r + 100) * n, n * 4), 0) << "row " << r;
  // The small-batch tiles (2-3 rows: one row at a time; 4-7 rows: 4 × 4 tiles and a remainder).
  for (int64_t m : {2, 3, 4, 5, 7}) {
    std::vector<float> few(static_cast<size_t>(m * n));
    linear(x.data() + 200 * k, m, pw, bp, few.data());
    for (int64_t r = 0; r < m; ++r)
      ASSERT_EQ(std::memcmp(few.data() + r * n, big.data() + (200 + r) * n, n * 4), 0)
          << "row " << r << " of M=" << m;
  }
}

TEST(KernelsGemm, RowsBitwiseIdenticalAcrossMF32) {
  check_invariance(DType::kF32, false);
  check_invariance(DType::kF32, true);
}

TEST(KernelsGemm, RowsBitwiseIdenticalAcrossMBf16) {
  check_invariance(DType::kBF16, false);
  check_invariance(DType::kBF16, true);
}

TEST(KernelsGemm, RowsBitwiseIdenticalAcrossMBf16OutputLanes) {
  check_invariance(DType::kBF16, false, true);
  check_invariance(DType::kBF16, true, true);
}

TEST(KernelsGemm, RowsBitwiseIdenticalAcrossMBf16AmxTiles) {
  check_invariance(DType::kBF16, false, false, true);
  check_invariance(DType::kBF16, true, false, true);
}

// The vector dot product is bit-for-bit the documented order: 16 lane-wise fma chains over K,
// then the fixed pairwise tree — so a scalar fallback or another kernel can reproduce it.
TEST(KernelsGemm, DotFollowsTheDocumentedReductionOrder) {
  for (int64_t k : {1, 15, 16, 17, 64, 100, 1024}) {
    auto x = random_floats(static_cast<size_t>(k), 20 + static_cast<uint32_t>(k), 3.0f);
    auto w = random_floats(static_cast<size_t>(k), 40 + static_cast<uint32_t>(k), 3.0f);
    float lanes[kLanes] = {};
    for (int64_t i = 0; i < k; ++i) lanes[i % kLanes] = std::fma(x[i], w[i], lanes[i % kLanes]);
    const float expect = reduce16(lanes);
    EXPECT_EQ(dot(x.data(), w.data(), k), expect) << "k=" << k;
    auto wb = to_bf16(w);
    float lanes_b[kLanes] = {};
    for (int64_t i = 0; i < k; ++i)
      lanes_b[i % kLanes] = std::fma(x[i], bf16_to_f32(wb[i]), lanes_b[i % kLanes]);
    EXPECT_EQ(dot(x.data(), wb.data(), k), reduce16(lanes_b)) << "k=" << k;
  }
}

#if defined(__AVX512F__)
// Sixteen reductions at once give exactly the sixteen reduce16 results, signed zeros included.
TEST(KernelsGemm, TransposedReductionEqualsSixteenReduce16) {
  for (uint32_t seed = 0; seed < 50; ++seed) {
    auto data = random_floats(256, 100 + seed, seed % 2 ? 1e4f : 1.0f);
    if (seed == 3)
      for (int i = 0; i < 16; ++i) data[16 * 5 + i] = -0.0f;  // an accumulator of negative zeros
    __m512 v[16];
    for (int j = 0; j < 16; ++j) v[j] = _mm512_loadu_ps(data.data() + 16 * j);
    float got[16];
    _mm512_storeu_ps(got, reduce16x16(v));
    for (int j = 0; j < 16; ++j) {
      const float want = reduce16(data.data() + 16 * j);
      EXPECT_EQ(std::memcmp(&got[j], &want, 4), 0)
          << "seed " << seed << " lane " << j << ": " << got[j] << " vs " << want;
    }
  }
}
#endif

}  // namespace
}  // namespace sgl::engine::cpu
