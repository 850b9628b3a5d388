// Sampler statistics and contracts: frequencies follow the distribution, filters never leak,
// seeds repeat, penalties hit the right logits, logprobs come from the raw distribution.
#include "engine/sampling.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

namespace sgl::engine {
namespace {

constexpr int64_t kVocab = 8;
const std::vector<double> kProbs = {0.30, 0.25, 0.15, 0.12, 0.08, 0.05, 0.03, 0.02};

std::vector<float> logits_row() {
  std::vector<float> l;
  for (double p : kProbs) l.push_back(static_cast<float>(std::log(p)));
  return l;
}

std::vector<int32_t> draw(Sampler& s, const SamplingParams& p, int n, int64_t step0 = 0) {
  std::vector<float> logits;
  std::vector<RowSampling> rows(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    auto l = logits_row();
    logits.insert(logits.end(), l.begin(), l.end());
    rows[i].params = &p;
    rows[i].step = step0 + i;
  }
  auto out = s.sample(logits.data(), kVocab, rows);
  std::vector<int32_t> ids;
  for (const auto& r : out) ids.push_back(r.token);
  return ids;
}

TEST(Sampler, FrequenciesMatchAtTemperatureOne) {
  Sampler s(1);
  SamplingParams p;
  const int n = 40000;
  auto ids = draw(s, p, n);
  std::vector<int> counts(kVocab);
  for (auto id : ids) ++counts[id];
  double chi2 = 0;
  for (int i = 0; i < kVocab; ++i) {
    double e = kProbs[i] * n;
    chi2 += (counts[i] - e) * (counts[i] - e) / e;
  }
  EXPECT_LT(chi2, 24.3) << "chi-square with 7 dof beyond p=0.001";
}

TEST(Sampler, TemperatureSharpens) {
  Sampler s(2);
  SamplingParams p;
  p.temperature = 0.25f;
  auto ids = draw(s, p, 4000);
  int top = 0;
  for (auto id : ids) top += id == 0;
  // p0^4 / sum p^4 ≈ 0.62 at T = 0.25
  EXPECT_NEAR(top / 4000.0, 0.62, 0.04);
}

TEST(Sampler, FiltersNeverSampleOutsideTheirSets) {
  Sampler s(3);
  SamplingParams k;
  k.top_k = 3;
  for (auto id : draw(s, k, 3000)) EXPECT_LT(id, 3);
  SamplingParams tp;
  tp.top_p = 0.6f;  // 0.30 + 0.25 + 0.15 = 0.70 ≥ 0.6 → {0, 1, 2}
  std::set<int32_t> seen;
  for (auto id : draw(s, tp, 3000)) seen.insert(id);
  EXPECT_EQ(seen, (std::set<int32_t>{0, 1, 2}));
  SamplingParams mp;
  mp.min_p = 0.4f;  // keeps p ≥ 0.12
  for (auto id : draw(s, mp, 3000)) EXPECT_LE(id, 3);
}

TEST(Sampler, GreedyPicksLowestIdOnTies) {
  Sampler s(4);
  std::vector<float> l = {1, 5, 5, 2};
  RowSampling rs;
  auto out = s.sample(l.data(), 4, {&rs, 1});
  EXPECT_EQ(out[0].token, 1);
}

TEST(Sampler, SeededRowsRepeatAndDifferAcrossSeeds) {
  SamplingParams a, b;
  a.seed = 42;
  b.seed = 43;
  Sampler s1(100), s2(999);
  auto x = draw(s1, a, 200), y = draw(s2, a, 200), z = draw(s1, b, 200);
  EXPECT_EQ(x, y) << "a seeded request ignores the sampler's own stream";
  EXPECT_NE(x, z);
  // Step position matters, batch position does not.
  auto shifted = draw(s2, a, 100, 100);
  EXPECT_EQ(std::vector<int32_t>(x.begin() + 100, x.end()), shifted);
}

TEST(Sampler, PenaltiesChangeTheRightLogits) {
  Sampler s(5);
  std::vector<float> l = {3.0f, 2.9f, -1.0f, 0.0f};
  std::vector<int32_t> out_ids = {0, 0};
  SamplingParams p;
  p.temperature = 0;
  p.frequency_penalty = 0.1f;  // token 0: 3.0 - 2*0.1 = 2.8 < 2.9
  RowSampling rs;
  rs.params = &p;
  rs.output_ids = &out_ids;
  auto r = s.sample(l.data(), 4, {&rs, 1});
  EXPECT_EQ(r[0].token, 1);
  SamplingParams rep;
  rep.temperature = 0;
  rep.repetition_penalty = 2.0f;  // token 0: 3.0 / 2 = 1.5
  std::vector<int32_t> prompt = {0};
  RowSampling rr;
  rr.params = &rep;
  rr.prompt_ids = &prompt;
  std::vector<float> l2 = {3.0f, 2.0f, -1.0f, 0.0f};
  EXPECT_EQ(s.sample(l2.data(), 4, {&rr, 1})[0].token, 1);
  SamplingParams bias;
  bias.temperature = 0;
  bias.logit_bias = {{3, 10.0f}};
  RowSampling rb;
  rb.params = &bias;
  std::vector<float> l3 = {3.0f, 2.0f, -1.0f, 0.0f};
  EXPECT_EQ(s.sample(l3.data(), 4, {&rb, 1})[0].token, 3);
}

TEST(Sampler, LogprobsFromRawDistribution) {
  Sampler s(6);
  auto l = logits_row();
  SamplingParams p;
  p.temperature = 0.5f;
  p.top_k = 2;
  RowSampling rs;
  rs.params = &p;
  rs.return_logprob = true;
  rs.top_logprobs_num = 3;
  rs.token_ids_logprob = {7};
  auto out = s.sample(l.data(), kVocab, {&rs, 1});
  const auto& r = out[0];
  EXPECT_NEAR(r.logprob, std::log(kProbs[r.token]), 1e-5);
  ASSERT_EQ(r.top.size(), 3u);
  EXPECT_EQ(r.top[0].token, 0);
  EXPECT_EQ(r.top[2].token, 2);
  EXPECT_NEAR(r.top[1].logprob, std::log(0.25), 1e-5);
  ASSERT_EQ(r.requested.size(), 1u);
  EXPECT_NEAR(r.requested[0].logprob, std::log(0.02), 1e-5);
}

}  // namespace
}  // namespace sgl::engine
