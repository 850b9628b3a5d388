// Logprob layout and meaning: SGLang's default reports the distribution it sampled from (after
// penalties and temperature); SGLANG_RETURN_ORIGINAL_LOGPROB reports it before temperature;
// prompt rows report the raw model distribution. Top-N descending, requested ids in order.
#include <gtest/gtest.h>

#include <cstdlib>

#include "sampling_test_util.h"

namespace sgl::engine {
namespace {

using namespace sampling_testing;

// log softmax(row / t)[id]
double log_softmax_at(const std::vector<float>& row, double t, int32_t id) {
  double z = 0;
  for (float v : row) z += std::exp(v / t);
  return row[id] / t - std::log(z);
}

RowSampling logprob_row(const SamplingParams* p) {
  RowSampling rs;
  rs.params = p;
  rs.return_logprob = true;
  rs.top_logprobs_num = 3;
  rs.token_ids_logprob = {7, 0, 123};  // 123 is outside the vocabulary
  return rs;
}

TEST(SamplerLogprobs, DefaultModeReportsTheTemperedDistribution) {
  Sampler s(6, LogprobMode::kProcessed);
  const auto row = log_row(kProbs);
  SamplingParams p;
  p.temperature = 0.5f;
  p.top_k = 2;  // filters change what is drawn, not the reported distribution
  for (int i = 0; i < 20; ++i) {
    std::vector<float> x = row;
    RowSampling rs = logprob_row(&p);
    rs.step = i;
    const RowResult r = s.sample(x.data(), kVocab, {&rs, 1})[0];
    ASSERT_TRUE(r.token == 0 || r.token == 1);
    EXPECT_NEAR(r.logprob, log_softmax_at(row, 0.5, r.token), 1e-5);
    ASSERT_EQ(r.top.size(), 3u);
    for (int k = 0; k < 3; ++k) {
      EXPECT_EQ(r.top[k].token, k) << "descending";
      EXPECT_NEAR(r.top[k].logprob, log_softmax_at(row, 0.5, k), 1e-5);
    }
    ASSERT_EQ(r.requested.size(), 3u);
    EXPECT_EQ(r.requested[0].token, 7);
    EXPECT_NEAR(r.requested[0].logprob, log_softmax_at(row, 0.5, 7), 1e-5);
    EXPECT_EQ(r.requested[1].token, 0);
    EXPECT_EQ(r.requested[2].token, 123);
    EXPECT_TRUE(std::isinf(r.requested[2].logprob) && r.requested[2].logprob < 0);
  }
}

TEST(SamplerLogprobs, OriginalModeReportsBeforeTemperature) {
  Sampler s(6, LogprobMode::kOriginal);
  const auto row = log_row(kProbs);
  SamplingParams p;
  p.temperature = 0.5f;
  std::vector<float> x = row;
  RowSampling rs = logprob_row(&p);
  const RowResult r = s.sample(x.data(), kVocab, {&rs, 1})[0];
  EXPECT_NEAR(r.logprob, std::log(kProbs[r.token]), 1e-5);
  EXPECT_NEAR(r.top[1].logprob, std::log(0.25), 1e-5);
  EXPECT_NEAR(r.requested[0].logprob, std::log(0.02), 1e-5);
}

TEST(SamplerLogprobs, GreedyRowsUseTemperatureOne) {
  for (LogprobMode mode : {LogprobMode::kProcessed, LogprobMode::kOriginal}) {
    Sampler s(1, mode);
    std::vector<float> x = log_row(kProbs);
    SamplingParams p;
    p.temperature = 0.0f;
    RowSampling rs = logprob_row(&p);
    const RowResult r = s.sample(x.data(), kVocab, {&rs, 1})[0];
    EXPECT_EQ(r.token, 0);
    EXPECT_NEAR(r.logprob, std::log(0.30), 1e-5);
  }
}

TEST(SamplerLogprobs, PromptRowsReportTheRawDistributionAndSampleNothing) {
  Sampler s(1, LogprobMode::kProcessed);
  SamplingParams p;
  p.temperature = 0.3f;
  p.logit_bias = {{5, 4.0f}};
  std::vector<float> x = log_row(kProbs);
  RowSampling rs = logprob_row(&p);
  rs.sample = false;
  const RowResult r = s.sample(x.data(), kVocab, {&rs, 1})[0];
  EXPECT_EQ(r.token, -1);
  ASSERT_EQ(r.top.size(), 3u);
  EXPECT_NEAR(r.top[0].logprob, std::log(0.30), 1e-5);
  EXPECT_NEAR(r.requested[0].logprob, std::log(0.02), 1e-5);
}

TEST(SamplerLogprobs, LayoutFollowsTheRequest) {
  Sampler s(2);
  std::vector<float> x;
  for (int i = 0; i < 3; ++i) {
    auto row = log_row(kProbs);
    x.insert(x.end(), row.begin(), row.end());
  }
  std::vector<RowSampling> rows(3);
  rows[1].top_logprobs_num = 100;  // clamps to the vocabulary
  rows[2].return_logprob = true;
  auto out = s.sample(x.data(), kVocab, rows);
  EXPECT_TRUE(out[0].top.empty() && out[0].requested.empty());
  EXPECT_EQ(out[0].logprob, 0.0f) << "no logprob asked, none computed";
  ASSERT_EQ(out[1].top.size(), static_cast<size_t>(kVocab));
  for (size_t k = 1; k < out[1].top.size(); ++k) EXPECT_GE(out[1].top[k - 1].logprob, out[1].top[k].logprob);
  EXPECT_TRUE(out[2].top.empty());
  EXPECT_NEAR(out[2].logprob, std::log(0.30), 1e-5);
}

TEST(SamplerLogprobs, ModeFollowsSGLangEnvironmentVariable) {
  ::unsetenv("SGLANG_RETURN_ORIGINAL_LOGPROB");
  ::unsetenv("RETURN_ORIGINAL_LOGPROB");
  EXPECT_EQ(logprob_mode_from_env(), LogprobMode::kProcessed);
  EXPECT_EQ(Sampler(1).logprob_mode(), LogprobMode::kProcessed);
  ::setenv("SGLANG_RETURN_ORIGINAL_LOGPROB", "True", 1);
  EXPECT_EQ(Sampler(1).logprob_mode(), LogprobMode::kOriginal);
  ::setenv("SGLANG_RETURN_ORIGINAL_LOGPROB", "0", 1);
  EXPECT_EQ(logprob_mode_from_env(), LogprobMode::kProcessed);
  ::unsetenv("SGLANG_RETURN_ORIGINAL_LOGPROB");
}

}  // namespace
}  // namespace sgl::engine
