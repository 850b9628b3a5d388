// Row-wise kernels (embedding, RMSNorm, fused add+RMSNorm, SiLU·mul, RoPE, MoE routing) against
// double-precision references written from the HF formulas, plus row invariance across M.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>
#include <numeric>
#include <random>
#include <vector>

#include "engine/cpu/kernels.h"
#include "engine/cpu/simd.h"

namespace sgl::engine::cpu {
namespace {

std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

TEST(KernelsElementwise, EmbeddingGathersF32AndBf16Rows) {
  const int64_t vocab = 50, hidden = 33;
  auto table = random_floats(static_cast<size_t>(vocab * hidden), 1);
  std::vector<uint16_t> tb(table.size());
  for (size_t i = 0; i < table.size(); ++i) tb[i] = f32_to_bf16(table[i]);
  std::vector<int32_t> ids = {7, 0, 49, 7, 13};
  std::vector<float> out(ids.size() * hidden), outb(ids.size() * hidden);
  embedding(table.data(), DType::kF32, hidden, ids.data(), static_cast<int64_t>(ids.size()), out.data());
  embedding(tb.data(), DType::kBF16, hidden, ids.data(), static_cast<int64_t>(ids.size()), outb.data());
  for (size_t i = 0; i < ids.size(); ++i)
    for (int64_t j = 0; j < hidden; ++j) {
      ASSERT_EQ(out[i * hidden + j], table[ids[i] * hidden + j]);
      ASSERT_EQ(outb[i * hidden + j], bf16_to_f32(tb[ids[i] * hidden + j]));
    }
}

double ref_inv_rms(const float* x, int64_t n, double eps) {
  double ss = 0;
  for (int64_t j = 0; j < n; ++j) ss += static_cast<double>(x[j]) * x[j];
  return 1.0 / std::sqrt(ss / static_cast<double>(n) + eps);
}

TEST(KernelsElementwise, RmsNormMatchesReferenceAndIsRowInvariant) {
  const float eps = 1e-6f;
  for (int64_t n : {7, 64, 1000}) {
    const int64_t m = 37;
    auto x = random_floats(static_cast<size_t>(m * n), 2, -3, 3);
    auto w = random_floats(static_cast<size_t>(n), 3, 0.5f, 1.5f);
    std::vector<float> y(x.size());
    rms_norm(x.data(), w.data(), m, n, eps, y.data());
    for (int64_t i = 0; i < m; ++i) {
      const double inv = ref_inv_rms(x.data() + i * n, n, eps);
      for (int64_t j = 0; j < n; ++j)
        ASSERT_NEAR(y[i * n + j], w[j] * x[i * n + j] * inv,
                    1e-5 * (1 + std::fabs(w[j] * x[i * n + j] * inv)));
    }
    // One row alone gives the same bits; in-place (y aliasing x) too.
    std::vector<float> one(static_cast<size_t>(n));
    rms_norm(x.data() + 11 * n, w.data(), 1, n, eps, one.data());
    ASSERT_EQ(std::memcmp(one.data(), y.data() + 11 * n, n * 4), 0);
    std::vector<float> inplace = x;
    rms_norm(inplace.data(), w.data(), m, n, eps, inplace.data());
    ASSERT_EQ(std::memcmp(inplace.data(), y.data(), y.size() * 4), 0);
  }
}

TEST(KernelsElementwise, AddRmsNormUpdatesResidualAndNormalises) {
  const int64_t m = 5, n = 96;
  const float eps = 1e-5f;
  auto x = random_floats(static_cast<size_t>(m * n), 4);
  auto res = random_floats(static_cast<size_t>(m * n), 5);
  auto w = random_floats(static_cast<size_t>(n), 6, 0.5f, 1.5f);
  auto res_before = res;
  std::vector<float> y(x.size());
  add_rms_norm(x.data(), res.data(), w.data(), m, n, eps, y.data());
  for (size_t i = 0; i < res.size(); ++i) ASSERT_EQ(res[i], res_before[i] + x[i]);
  // Same as rms_norm of the updated residual, bit for bit.
  std::vector<float> y2(x.size());
  rms_norm(res.data(), w.data(), m, n, eps, y2.data());
  ASSERT_EQ(std::memcmp(y.data(), y2.data(), y.size() * 4), 0);
  for (int64_t i = 0; i < m; ++i) {
    const double inv = ref_inv_rms(res.data() + i * n, n, eps);
    for (int64_t j = 0; j < n; ++j) ASSERT_NEAR(y[i * n + j], w[j] * res[i * n + j] * inv, 1e-5);
  }
}

TEST(KernelsElementwise, SiluMulMatchesReference) {
  const int64_t m = 3, inter = 70;
  auto gu = random_floats(static_cast<size_t>(m * 2 * inter), 7, -8, 8);
  gu[0] = -100.0f;  // exp overflow side: silu → -0
  gu[1] = 100.0f;
  std::vector<float> out(static_cast<size_t>(m * inter));
  silu_mul(gu.data(), m, inter, out.data());
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < inter; ++j) {
      const double g = gu[i * 2 * inter + j], u = gu[i * 2 * inter + inter + j];
      const double ref = g / (1 + std::exp(-g)) * u;
      ASSERT_NEAR(out[i * inter + j], ref, 1e-5 * (1 + std::fabs(ref)));
    }
}

// GeGLU with GELU's tanh form (Gemma 2, Grok): against the formula in double, including the
// saturated tails, over a width with a vector body and a scalar tail.
TEST(KernelsElementwise, GeluTanhMulMatchesReference) {
  const int64_t m = 3, inter = 70;
  auto gu = random_floats(static_cast<size_t>(m * 2 * inter), 9, -6, 6);
  gu[0] = -60.0f;
  gu[1] = 60.0f;
  std::vector<float> out(static_cast<size_t>(m * inter));
  gelu_tanh_mul(gu.data(), m, inter, out.data());
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < inter; ++j) {
      const double g = gu[i * 2 * inter + j], u = gu[i * 2 * inter + inter + j];
      const double ref = 0.5 * g * (1 + std::tanh(std::sqrt(2 / M_PI) * (g + 0.044715 * g * g * g))) * u;
      ASSERT_NEAR(out[i * inter + j], ref, 2e-6 * (1 + std::fabs(ref) + std::fabs(g * u))) << j;
    }
}

// Logit soft-capping: cap·tanh(x/cap) within 1e-6·cap, saturating at ±cap, the vector body and the
// scalar tail identical for the same value; cap 0 leaves the row alone.
TEST(KernelsElementwise, SoftcapMatchesTanhAndIsPositionIndependent) {
  auto x = random_floats(37, 3, -200, 200);
  x[0] = 1e-4f;
  x[1] = -1e30f;
  x[2] = 1e30f;
  for (float cap : {30.0f, 50.0f}) {
    auto y = x;
    softcap(y.data(), static_cast<int64_t>(y.size()), cap);
    for (size_t i = 0; i < x.size(); ++i)
      ASSERT_NEAR(y[i], cap * std::tanh(static_cast<double>(x[i]) / cap), 1e-6 * cap) << x[i];
    EXPECT_EQ(y[1], -cap);
    EXPECT_EQ(y[2], cap);
    // The same value at a vector position (16) and in the tail (36) comes out the same.
    auto z = x;
    z[16] = z[36] = 7.25f;
    softcap(z.data(), static_cast<int64_t>(z.size()), cap);
    EXPECT_EQ(z[16], z[36]);
  }
  auto same = x;
  softcap(same.data(), static_cast<int64_t>(same.size()), 0.0f);
  EXPECT_EQ(same, x);
}

// The softmax exponential (attention, SiLU, the draft's top-k probabilities): within 2 ulp of
// std::exp over the float range it is used on, 0 for -inf and far below, and the vector form is
// bit-for-bit the scalar one (a row's tail and its vector body must agree).
TEST(KernelsElementwise, ExpPolyIsAccurateAndItsVectorFormIdentical) {
  std::vector<float> xs = {0.0f,        -0.0f,  1.0f,  -1.0f,   0.5f, -0.34657359f,
                           0.34657359f, -87.0f, 88.0f, -103.0f, 80.0f};
  for (float x = -103.9f; x < 88.6f; x += 0.0137f) xs.push_back(x);
  auto r = random_floats(4096, 21, -20.0f, 5.0f);
  xs.insert(xs.end(), r.begin(), r.end());
  while (xs.size() % kLanes != 0) xs.push_back(-1.5f);
  for (float x : xs) {
    const double ref = std::exp(static_cast<double>(x));
    const float got = exp_poly(x);
    if (ref < static_cast<double>(std::numeric_limits<float>::min())) {  // subnormal results
      ASSERT_NEAR(got, ref, 2 * static_cast<double>(std::numeric_limits<float>::denorm_min())) << "x=" << x;
    } else {
      ASSERT_NEAR(got, ref, 2.5e-7 * ref) << "x=" << x;
    }
  }
  EXPECT_EQ(exp_poly(-std::numeric_limits<float>::infinity()), 0.0f);
  EXPECT_EQ(exp_poly(-200.0f), 0.0f);
#if defined(__AVX512F__)
  for (size_t i = 0; i < xs.size(); i += kLanes) {
    alignas(64) float v[kLanes];
    _mm512_store_ps(v, exp16(_mm512_loadu_ps(xs.data() + i)));
    for (int j = 0; j < kLanes; ++j) {
      const float s = exp_poly(xs[i + j]);
      ASSERT_EQ(std::memcmp(&v[j], &s, 4), 0) << "x=" << xs[i + j];
    }
  }
  alignas(64) float z[kLanes];
  _mm512_store_ps(z, exp16(_mm512_set1_ps(-std::numeric_limits<float>::infinity())));
  EXPECT_EQ(z[0], 0.0f);
#endif
}

TEST(KernelsElementwise, SumExpMatchesReference) {
  for (int64_t n : {1, 15, 16, 4096, 4099}) {
    auto x = random_floats(static_cast<size_t>(n), 22 + static_cast<uint32_t>(n), -12.0f, 3.0f);
    const float mx = *std::max_element(x.begin(), x.end());
    double ref = 0;
    for (float v : x) ref += std::exp(static_cast<double>(v) - mx);
    EXPECT_NEAR(sum_exp(x.data(), n, mx), ref, 1e-6 * ref) << "n=" << n;
  }
}

// transformers' rope init functions, in double.
std::vector<double> hf_inv_freq(const RopeConfig& c) {
  std::vector<double> f;
  for (int64_t i = 0; i < c.rotary_dim; i += 2)
    f.push_back(1.0 / std::pow(c.theta, static_cast<double>(i) / static_cast<double>(c.rotary_dim)));
  if (c.scaling_type == "linear")
    for (auto& v : f) v /= c.factor;
  if (c.scaling_type == "llama3") {
    const double low_wl = c.original_max_position / c.low_freq_factor;
    const double high_wl = c.original_max_position / c.high_freq_factor;
    for (auto& v : f) {
      const double wl = 2 * std::numbers::pi / v;
      const double scaled = wl > low_wl ? v / c.factor : v;  // torch.where(wavelen > low, inv/factor, inv)
      const double smooth =
          (c.original_max_position / wl - c.low_freq_factor) / (c.high_freq_factor - c.low_freq_factor);
      const double smoothed = (1 - smooth) * scaled / c.factor + smooth * scaled;
      const bool medium = !(wl < high_wl) && !(wl > low_wl);
      v = medium ? smoothed : scaled;
    }
  }
  return f;
}

void check_rope(const RopeConfig& cfg) {
  SCOPED_TRACE(cfg.scaling_type);
  Rope rope(cfg);
  const auto ref_f = hf_inv_freq(cfg);
  ASSERT_EQ(rope.inv_freq().size(), ref_f.size());
  for (size_t i = 0; i < ref_f.size(); ++i) ASSERT_NEAR(rope.inv_freq()[i], ref_f[i], 1e-6 * ref_f[i]);
  const int64_t t = 6, heads = 3, d = cfg.rotary_dim;
  std::vector<int32_t> pos = {0, 1, 2, 17, 1000, 5000};
  auto x = random_floats(static_cast<size_t>(t * heads * d), 8);
  auto y = x;
  rope.apply(y.data(), t, heads, d, pos.data());
  const int64_t half = d / 2;
  for (int64_t i = 0; i < t; ++i)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t j = 0; j < half; ++j) {
        // x * cos + rotate_half(x) * sin, rotate_half(x) = [-x2, x1].
        const double a = pos[i] * static_cast<double>(rope.inv_freq()[j]);
        const float* v = x.data() + (i * heads + h) * d;
        const double r1 = v[j] * std::cos(a) - v[j + half] * std::sin(a);
        const double r2 = v[j + half] * std::cos(a) + v[j] * std::sin(a);
        // fp32 angles lose ~pos·2^-24 radians, as in HF's fp32 computation.
        const double tol = 1e-5 + 4e-7 * pos[i];
        ASSERT_NEAR(y[(i * heads + h) * d + j], r1, tol) << "t=" << i << " j=" << j;
        ASSERT_NEAR(y[(i * heads + h) * d + j + half], r2, tol) << "t=" << i << " j=" << j;
      }
  // Position 0 is the identity.
  for (int64_t j = 0; j < heads * d; ++j) ASSERT_EQ(y[j], x[j]);
  // The two-step form (one cos/sin table for q, k and every layer) is the same computation.
  std::vector<float> cs(static_cast<size_t>(t * rope.table_width()));
  rope.table(pos.data(), t, cs.data());
  auto z = x;
  rope.apply(z.data(), t, heads, d, cs.data());
  ASSERT_EQ(std::memcmp(z.data(), y.data(), z.size() * 4), 0);
  // A token alone gets the same bits as inside the batch.
  std::vector<float> one(x.begin() + 4 * heads * d, x.begin() + 5 * heads * d);
  rope.apply(one.data(), 1, heads, d, pos.data() + 4);
  ASSERT_EQ(std::memcmp(one.data(), y.data() + 4 * heads * d, one.size() * 4), 0);
}

TEST(KernelsElementwise, RopeDefaultLinearLlama3MatchHfFormulas) {
  RopeConfig plain;
  plain.rotary_dim = 64;
  plain.theta = 1000000.0;
  check_rope(plain);
  RopeConfig linear = plain;
  linear.rotary_dim = 32;
  linear.theta = 10000.0;
  linear.scaling_type = "linear";
  linear.factor = 4.0;
  check_rope(linear);
  RopeConfig llama3;
  llama3.rotary_dim = 128;
  llama3.theta = 500000.0;
  llama3.scaling_type = "llama3";
  llama3.factor = 8.0;
  llama3.low_freq_factor = 1.0;
  llama3.high_freq_factor = 4.0;
  llama3.original_max_position = 8192;
  check_rope(llama3);
  // llama3 scaling leaves the highest frequency alone and divides the lowest by `factor`.
  Rope r3(llama3), r0([&] {
    RopeConfig c = llama3;
    c.scaling_type = "default";
    return c;
  }());
  EXPECT_EQ(r3.inv_freq()[0], r0.inv_freq()[0]);
  EXPECT_NEAR(r3.inv_freq()[63], r0.inv_freq()[63] / 8.0, 1e-6 * r0.inv_freq()[63]);
}

TEST(KernelsElementwise, MoeTopkSoftmaxMatchesReference) {
  const int64_t m = 9;
  const int experts = 12, top_k = 3;
  auto logits = random_floats(static_cast<size_t>(m * experts), 9, -4, 4);
  // Row 8: a tie between experts 5 and 2 at the top; the lower id comes first.
  std::fill(logits.begin() + 8 * experts, logits.end(), 0.0f);
  logits[8 * experts + 5] = logits[8 * experts + 2] = 3.0f;
  for (bool norm : {false, true}) {
    std::vector<int32_t> ids(static_cast<size_t>(m * top_k));
    std::vector<float> wts(ids.size());
    moe_topk_softmax(logits.data(), m, experts, top_k, norm, ids.data(), wts.data());
    for (int64_t i = 0; i < m; ++i) {
      const float* l = logits.data() + i * experts;
      std::vector<double> p(experts);
      const double mx = *std::max_element(l, l + experts);
      double s = 0;
      for (int e = 0; e < experts; ++e) s += (p[e] = std::exp(l[e] - mx));
      for (auto& v : p) v /= s;
      std::vector<int> order(experts);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return p[a] > p[b]; });
      double top_sum = 0;
      for (int k = 0; k < top_k; ++k) top_sum += p[order[k]];
      for (int k = 0; k < top_k; ++k) {
        ASSERT_EQ(ids[i * top_k + k], order[k]) << "row " << i << " k " << k;
        const double ref = norm ? p[order[k]] / top_sum : p[order[k]];
        ASSERT_NEAR(wts[i * top_k + k], ref, 1e-6);
      }
    }
    EXPECT_EQ(ids[8 * top_k], 2);
    EXPECT_EQ(ids[8 * top_k + 1], 5);
  }
}

}  // namespace
}  // namespace sgl::engine::cpu
