// Penalties and logit bias change exactly the logits they should, in SGLang/HF order. The
// processed logits are read back through logprobs of a greedy row (log_softmax of them), so
// differences between two ids' logprobs equal differences between their processed logits.
#include <gtest/gtest.h>

#include "sampling_test_util.h"

namespace sgl::engine {
namespace {

// Processed logits minus the processed logit of `ref`, for every id of `row`.
std::vector<float> processed_minus_ref(const std::vector<float>& row, const SamplingParams& p,
                                       const std::vector<int32_t>* prompt, const std::vector<int32_t>* output,
                                       int32_t ref) {
  Sampler s(1, LogprobMode::kOriginal);
  std::vector<float> x = row;
  RowSampling rs;
  rs.params = &p;
  rs.prompt_ids = prompt;
  rs.output_ids = output;
  for (int32_t i = 0; i < static_cast<int32_t>(row.size()); ++i) rs.token_ids_logprob.push_back(i);
  auto out = s.sample(x.data(), static_cast<int64_t>(row.size()), {&rs, 1});
  std::vector<float> d;
  for (const auto& t : out[0].requested) d.push_back(t.logprob - out[0].requested[ref].logprob);
  return d;
}

const std::vector<float> kRow = {3.0f, 2.0f, -1.0f, 0.5f, 1.0f};

TEST(SamplerPenalties, RepetitionDividesPositiveAndMultipliesNegativeOverPromptAndOutput) {
  SamplingParams p;
  p.temperature = 0;
  p.repetition_penalty = 2.0f;
  std::vector<int32_t> prompt = {0, 0, 9999};  // duplicates count once; out-of-vocab ids ignored
  std::vector<int32_t> output = {2, 0};
  auto d = processed_minus_ref(kRow, p, &prompt, &output, 1);  // id 1 untouched (2.0)
  EXPECT_NEAR(d[0], 1.5f - 2.0f, 1e-5);                        // 3 / 2
  EXPECT_NEAR(d[2], -2.0f - 2.0f, 1e-5);                       // -1 × 2
  EXPECT_NEAR(d[3], 0.5f - 2.0f, 1e-5);
  EXPECT_NEAR(d[4], 1.0f - 2.0f, 1e-5);
}

TEST(SamplerPenalties, FrequencyAndPresenceCountOutputTokensOnly) {
  SamplingParams p;
  p.temperature = 0;
  p.frequency_penalty = 0.25f;
  p.presence_penalty = 0.5f;
  std::vector<int32_t> prompt = {1, 1, 1};
  std::vector<int32_t> output = {0, 3, 0, 0};
  auto d = processed_minus_ref(kRow, p, &prompt, &output, 1);
  EXPECT_NEAR(d[0], (3.0f - 3 * 0.25f - 0.5f) - 2.0f, 1e-5);
  EXPECT_NEAR(d[3], (0.5f - 0.25f - 0.5f) - 2.0f, 1e-5);
  EXPECT_NEAR(d[2], -1.0f - 2.0f, 1e-5);
  EXPECT_NEAR(d[4], 1.0f - 2.0f, 1e-5);
}

TEST(SamplerPenalties, LogitBiasIsAddedAfterThePenalties) {
  SamplingParams p;
  p.temperature = 0;
  p.repetition_penalty = 2.0f;
  p.logit_bias = {{0, 1.0f}, {4, -3.0f}, {-5, 100.0f}};
  std::vector<int32_t> prompt = {0};
  auto d = processed_minus_ref(kRow, p, &prompt, nullptr, 1);
  EXPECT_NEAR(d[0], (3.0f / 2 + 1.0f) - 2.0f, 1e-5) << "bias after the division, not (3 + 1) / 2";
  EXPECT_NEAR(d[4], (1.0f - 3.0f) - 2.0f, 1e-5);
}

TEST(SamplerPenalties, PenaltiesDecideTheGreedyToken) {
  Sampler s(5);
  std::vector<int32_t> out_ids = {0, 0};
  SamplingParams p;
  p.temperature = 0;
  p.frequency_penalty = 0.6f;  // token 0: 3.0 - 1.2 = 1.8 < 2.0
  RowSampling rs;
  rs.params = &p;
  rs.output_ids = &out_ids;
  std::vector<float> x = kRow;
  EXPECT_EQ(s.sample(x.data(), 5, {&rs, 1})[0].token, 1);
  SamplingParams bias;
  bias.temperature = 0;
  bias.logit_bias = {{2, 10.0f}};
  RowSampling rb;
  rb.params = &bias;
  x = kRow;
  EXPECT_EQ(s.sample(x.data(), 5, {&rb, 1})[0].token, 2);
}

TEST(SamplerPenalties, BiasToMinusInfinityNeverSamples) {
  using namespace sampling_testing;
  Sampler s(6);
  SamplingParams p;
  p.logit_bias = {{0, -INFINITY}, {1, -INFINITY}};
  for (auto id : draw(s, p, 2000)) ASSERT_GE(id, 2);
}

TEST(SamplerPenalties, PenaltiesStayInTheirRow) {
  Sampler s(7);
  SamplingParams pen;
  pen.temperature = 0;
  pen.logit_bias = {{1, 5.0f}};
  std::vector<float> x;
  for (int r = 0; r < 3; ++r) x.insert(x.end(), kRow.begin(), kRow.end());
  std::vector<RowSampling> rows(3);
  rows[1].params = &pen;
  rows[2].params = &pen;
  rows[2].sample = false;  // a prompt row: logprobs of the raw logits only
  rows[2].token_ids_logprob = {0, 1};
  auto out = s.sample(x.data(), 5, rows);
  EXPECT_EQ(out[0].token, 0);
  EXPECT_EQ(out[1].token, 1);
  EXPECT_EQ(out[2].token, -1);
  ASSERT_EQ(out[2].requested.size(), 2u);
  EXPECT_NEAR(out[2].requested[0].logprob - out[2].requested[1].logprob, 1.0f, 1e-5);
}

}  // namespace
}  // namespace sgl::engine
