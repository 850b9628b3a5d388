// Sampler statistics: draws follow the tempered distribution, and top-k / top-p / min-p keep
// exactly SGLang's "joint" sets (each judged on the full distribution) and renormalise them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <set>

#include "sampling_test_util.h"

namespace sgl::engine {
namespace {

using namespace sampling_testing;

TEST(SamplerFilters, FrequenciesMatchAtTemperatureOne) {
  Sampler s(1);
  SamplingParams p;
  auto ids = draw(s, p, 40000);
  EXPECT_LT(chi_square(ids, kProbs), chi2_critical(7));
}

TEST(SamplerFilters, TemperatureReshapesTheDistribution) {
  Sampler s(2);
  for (float t : {0.5f, 2.0f}) {
    SamplingParams p;
    p.temperature = t;
    auto ids = draw(s, p, 30000);
    EXPECT_LT(chi_square(ids, tempered(kProbs, t, kVocab)), chi2_critical(7)) << "T = " << t;
  }
}

TEST(SamplerFilters, TopKKeepsTheKMostLikelyRenormalised) {
  Sampler s(3);
  SamplingParams p;
  p.top_k = 3;
  auto ids = draw(s, p, 30000);
  EXPECT_LT(chi_square(ids, tempered(kProbs, 1.0, 3)), chi2_critical(2));
}

TEST(SamplerFilters, TopPKeepsRanksWhoseMassBeforeIsWithinP) {
  Sampler s(4);
  SamplingParams p;
  p.top_p = 0.6f;  // mass before ranks 0..3: 0, 0.30, 0.55, 0.70 → {0, 1, 2}
  auto ids = draw(s, p, 30000);
  EXPECT_LT(chi_square(ids, tempered(kProbs, 1.0, 3)), chi2_critical(2));
  p.top_p = 0.3f;  // rank 1 has exactly 0.30 before it: kept (SGLang drops only mass > p)
  p.temperature = 1.0f;
  std::set<int32_t> seen;
  for (auto id : draw(s, p, 2000)) seen.insert(id);
  EXPECT_EQ(seen, (std::set<int32_t>{0, 1}));
}

TEST(SamplerFilters, TopPIsJudgedAfterTemperature) {
  Sampler s(5);
  SamplingParams p;
  p.temperature = 0.5f;  // squared probs: token 0 alone holds 0.09 / 0.1996 ≈ 0.45 of the mass,
  p.top_p = 0.35f;       // so only rank 0 stays (at T = 1 rank 1 would: 0.30 before it)
  for (auto id : draw(s, p, 500)) ASSERT_EQ(id, 0);
}

TEST(SamplerFilters, MinPKeepsTokensAboveAFractionOfTheMax) {
  Sampler s(6);
  SamplingParams p;
  p.min_p = 0.39f;  // 0.39 × 0.30 = 0.117 → ids 0..3
  auto ids = draw(s, p, 30000);
  EXPECT_LT(chi_square(ids, tempered(kProbs, 1.0, 4)), chi2_critical(3));
}

TEST(SamplerFilters, FiltersCombineAsTheIntersection) {
  Sampler s(7);
  SamplingParams p;
  p.top_k = 5;
  p.top_p = 0.9f;   // ranks 0..4 (mass before rank 5 = 0.90)
  p.min_p = 0.45f;  // p ≥ 0.135 → ranks 0..2
  std::set<int32_t> seen;
  for (auto id : draw(s, p, 3000)) seen.insert(id);
  EXPECT_EQ(seen, (std::set<int32_t>{0, 1, 2}));
}

// Large vocabularies exercise the partial selections (top-p sorts only a growing prefix).
TEST(SamplerFilters, LargeVocabNeverLeavesTheReferenceSet) {
  constexpr int64_t kBig = 32768;
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::vector<float> row(kBig);
  for (float& v : row) v = normal(rng);
  // Reference: full sort by probability, descending.
  std::vector<int32_t> order(kBig);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return row[a] > row[b]; });
  const float mx = row[order[0]];
  double z = 0;
  for (float v : row) z += std::exp(static_cast<double>(v - mx));
  auto allowed_top_p = [&](double top_p) {
    std::set<int32_t> keep;
    double before = 0;
    for (int32_t id : order) {
      if (before > top_p) break;
      keep.insert(id);
      before += std::exp(static_cast<double>(row[id] - mx)) / z;
    }
    return keep;
  };
  Sampler s(8);
  for (double top_p : {0.05, 0.5, 0.95}) {
    SamplingParams p;
    p.top_p = static_cast<float>(top_p);
    const std::set<int32_t> keep = allowed_top_p(p.top_p);
    std::set<int32_t> seen;
    for (auto id : draw(s, p, 80, 0, row)) {
      ASSERT_TRUE(keep.count(id)) << "top_p " << top_p << " sampled " << id;
      seen.insert(id);
    }
    EXPECT_GT(seen.size(), std::min<size_t>(keep.size() / 4, 20)) << "draws spread over the kept set";
  }
  SamplingParams k;
  k.top_k = 40;
  const std::set<int32_t> top40(order.begin(), order.begin() + 40);
  for (auto id : draw(s, k, 400, 0, row)) ASSERT_TRUE(top40.count(id));
}

TEST(SamplerFilters, GreedyPicksTheLowestIdOnTies) {
  Sampler s(9);
  std::vector<float> l = {1, 5, 5, 2};
  RowSampling none;  // no params → greedy
  EXPECT_EQ(s.sample(l.data(), 4, {&none, 1})[0].token, 1);
  SamplingParams zero_t;
  zero_t.temperature = 0.0f;
  SamplingParams k1;
  k1.top_k = 1;
  for (const SamplingParams* p : {&zero_t, &k1}) {
    RowSampling rs;
    rs.params = p;
    std::vector<float> m = {1, 5, 5, 2};
    EXPECT_EQ(s.sample(m.data(), 4, {&rs, 1})[0].token, 1);
  }
}

// Rows wide enough for the vectorised scan: ties across and inside 16-wide blocks, the maximum in
// the scalar tail and at id 0.
TEST(SamplerFilters, GreedyOnWideRowsPicksTheLowestIdOnTies) {
  Sampler s(9);
  RowSampling none;
  const int64_t vocab = 1003;  // 62 blocks of 16 and a tail of 11
  struct Case {
    std::vector<int64_t> maxima;
    int32_t expected;
  };
  for (const Case& c : {Case{{900, 37}, 37}, Case{{55, 50}, 50}, Case{{1001}, 1001}, Case{{0, 999}, 0},
                        Case{{1002, 992}, 992}}) {
    std::vector<float> row(static_cast<size_t>(vocab));
    for (int64_t i = 0; i < vocab; ++i) row[i] = std::sin(static_cast<float>(i));  // all below 1
    for (int64_t m : c.maxima) row[m] = 3.0f;
    EXPECT_EQ(s.sample(row.data(), vocab, {&none, 1})[0].token, c.expected);
  }
}

TEST(SamplerSeeds, SeededRowsRepeatAndDifferAcrossSeeds) {
  SamplingParams a, b;
  a.seed = 42;
  b.seed = 43;
  Sampler s1(100), s2(999);
  auto x = draw(s1, a, 200), y = draw(s2, a, 200), z = draw(s1, b, 200);
  EXPECT_EQ(x, y) << "a seeded request ignores the sampler's own stream";
  EXPECT_NE(x, z);
  // The step position matters, the position in the batch does not.
  auto shifted = draw(s2, a, 100, 100);
  EXPECT_EQ(std::vector<int32_t>(x.begin() + 100, x.end()), shifted);
}

TEST(SamplerSeeds, SeededRowIgnoresItsBatchNeighbours) {
  SamplingParams seeded, other;
  seeded.seed = 7;
  other.temperature = 0.7f;
  other.top_k = 4;
  const auto row = log_row(kProbs);
  std::vector<int32_t> alone, batched;
  Sampler s(1);
  for (int64_t step = 0; step < 50; ++step) {
    std::vector<float> one = row;
    RowSampling rs;
    rs.params = &seeded;
    rs.step = step;
    alone.push_back(s.sample(one.data(), kVocab, {&rs, 1})[0].token);
    // Same row among 5 unseeded neighbours, at a different position each step.
    std::vector<float> many;
    std::vector<RowSampling> rows(6);
    for (int i = 0; i < 6; ++i) {
      many.insert(many.end(), row.begin(), row.end());
      rows[i].params = &other;
    }
    const size_t at = static_cast<size_t>(step % 6);
    rows[at] = rs;
    batched.push_back(s.sample(many.data(), kVocab, rows)[at].token);
  }
  EXPECT_EQ(alone, batched);
}

TEST(SamplerSeeds, UnseededStreamRepeatsForTheSameSamplerSeed) {
  SamplingParams p;
  Sampler s1(5), s2(5), s3(6);
  auto x = draw(s1, p, 300), y = draw(s2, p, 300), z = draw(s3, p, 300);
  EXPECT_EQ(x, y) << "rows draw in row order, not thread order";
  EXPECT_NE(x, z);
  EXPECT_NE(x, draw(s1, p, 300)) << "the stream advances between calls";
}

}  // namespace
}  // namespace sgl::engine

namespace sgl::engine {
namespace {

// --enable-nan-detection: NaN logits become -1e5, so a row with NaNs samples (greedy and random)
// only among its finite logits, reports finite logprobs, and the sampler counts the row.
TEST(SamplerNanDetection, NanLogitsAreReplacedAndCounted) {
  Sampler s(1);
  s.set_nan_detection(true);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> row = {nan, 0.5f, nan, 2.0f, 1.0f, nan};
  SamplingParams greedy;
  greedy.temperature = 0.0f;
  SamplingParams hot;
  hot.temperature = 1.0f;
  std::vector<float> logits;
  std::vector<RowSampling> rows;
  for (int i = 0; i < 40; ++i) {
    logits.insert(logits.end(), row.begin(), row.end());
    RowSampling rs;
    rs.params = i == 0 ? &greedy : &hot;
    rs.step = i;
    rs.return_logprob = true;
    rows.push_back(rs);
  }
  const auto out = s.sample(logits.data(), static_cast<int64_t>(row.size()), rows);
  EXPECT_EQ(out[0].token, 3);
  for (const auto& r : out) {
    EXPECT_TRUE(r.token == 1 || r.token == 3 || r.token == 4) << r.token;
    EXPECT_TRUE(std::isfinite(r.logprob));
  }
  EXPECT_EQ(s.nan_rows(), 40);
  // Off (the default), finite rows are untouched and nothing is counted.
  Sampler plain(1);
  std::vector<float> fine = {0.1f, 0.2f};
  RowSampling rs;
  rs.params = &greedy;
  EXPECT_EQ(plain.sample(fine.data(), 2, std::span<const RowSampling>(&rs, 1))[0].token, 1);
  EXPECT_EQ(plain.nan_rows(), 0);
}

}  // namespace
}  // namespace sgl::engine
