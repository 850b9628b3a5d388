// Structured output in the sampler: only allowed tokens are chosen, filters and logprobs see the
// masked distribution, and the constraint hears about every choice.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "engine/token_constraint.h"
#include "sampling_test_util.h"

namespace sgl::engine {
namespace {

using namespace sampling_testing;

class SetConstraint final : public TokenConstraint {
 public:
  SetConstraint(std::set<int32_t> allowed, int32_t fallback)
      : allowed_(std::move(allowed)), fallback_(fallback) {}
  bool allows(int32_t token) override {
    ++asked;
    return allowed_.count(token) > 0;
  }
  void accept(int32_t token) override { accepted.push_back(token); }
  int32_t fallback_token() const override { return fallback_; }

  int asked = 0;
  std::vector<int32_t> accepted;

 private:
  std::set<int32_t> allowed_;
  int32_t fallback_;
};

// `n` rows of kProbs sampled with `p`, each under its own constraint allowing `allowed`.
std::vector<RowResult> draw_constrained(Sampler& s, const SamplingParams* p, int n,
                                        const std::set<int32_t>& allowed,
                                        std::vector<SetConstraint>& constraints, bool logprobs = false) {
  const std::vector<float> row = log_row(kProbs);
  std::vector<float> logits;
  std::vector<RowSampling> rows(static_cast<size_t>(n));
  constraints.assign(static_cast<size_t>(n), SetConstraint(allowed, 7));
  for (int i = 0; i < n; ++i) {
    logits.insert(logits.end(), row.begin(), row.end());
    rows[i].params = p;
    rows[i].step = i;
    rows[i].constraint = &constraints[i];
    rows[i].return_logprob = logprobs;
    rows[i].top_logprobs_num = logprobs ? 3 : 0;
  }
  return s.sample(logits.data(), kVocab, rows);
}

TEST(SamplerConstraint, GreedyTakesTheMostLikelyAllowedTokenAfterFewChecks) {
  Sampler s(1);
  std::vector<SetConstraint> cs;
  auto out = draw_constrained(s, nullptr, 1, {2, 5}, cs);
  EXPECT_EQ(out[0].token, 2);
  EXPECT_EQ(cs[0].accepted, std::vector<int32_t>{2});
  EXPECT_EQ(cs[0].asked, 3);  // ids 0, 1 refused, 2 allowed: the walk stops there
}

TEST(SamplerConstraint, SampledTokensFollowTheMaskedDistribution) {
  Sampler s(2);
  SamplingParams p;
  std::vector<SetConstraint> cs;
  const std::set<int32_t> allowed = {1, 3, 4, 6};
  auto out = draw_constrained(s, &p, 30000, allowed, cs);
  std::vector<int32_t> ids;
  std::vector<double> expect(kVocab, 0.0);
  double z = 0;
  for (int32_t id : allowed) z += kProbs[id];
  for (int32_t id : allowed) expect[id] = kProbs[id] / z;
  for (size_t i = 0; i < out.size(); ++i) {
    ids.push_back(out[i].token);
    ASSERT_EQ(cs[i].accepted, std::vector<int32_t>{out[i].token});
  }
  EXPECT_LT(chi_square(ids, expect), chi2_critical(3));
}

TEST(SamplerConstraint, TopKIsJudgedWithoutTheTokensRefusedSoFar) {
  // Redraw semantics: top_k = 2 over {0: .30, 1: .25} draws 0 (refused) with p = .545; then over
  // {1, 2}: 2 (refused) with p = .375; then over {1, 3}. So P(3) = .545 * .375 * .12 / .37.
  Sampler s(3);
  SamplingParams p;
  p.top_k = 2;
  std::vector<SetConstraint> cs;
  auto out = draw_constrained(s, &p, 20000, {1, 3, 4, 6}, cs);
  std::vector<int32_t> ids;
  for (const auto& r : out) ids.push_back(r.token);
  std::vector<double> expect(kVocab, 0.0);
  expect[3] = (0.30 / 0.55) * (0.15 / 0.40) * (0.12 / 0.37);
  expect[1] = 1.0 - expect[3];
  EXPECT_LT(chi_square(ids, expect), chi2_critical(1));
}

// SGLang masks the logits with the grammar's vocabulary mask before computing logprobs: the
// chosen token and the top-N come from the distribution over the allowed tokens only (its
// `regex: "( Yes| No)"` test expects " Yes" and " No" among the alternatives). Fewer allowed
// tokens than asked for: only those are listed.
TEST(SamplerConstraint, LogprobsDescribeTheMaskedDistribution) {
  Sampler s(4);
  std::vector<SetConstraint> cs;
  auto out = draw_constrained(s, nullptr, 1, {2, 5, 6}, cs, /*logprobs=*/true);
  const double z = kProbs[2] + kProbs[5] + kProbs[6];
  EXPECT_EQ(out[0].token, 2);
  EXPECT_EQ(cs[0].accepted, std::vector<int32_t>{2});
  EXPECT_NEAR(out[0].logprob, std::log(kProbs[2] / z), 1e-5);
  ASSERT_EQ(out[0].top.size(), 3u);
  EXPECT_EQ(out[0].top[0].token, 2);
  EXPECT_EQ(out[0].top[1].token, 5);
  EXPECT_EQ(out[0].top[2].token, 6);
  EXPECT_NEAR(out[0].top[2].logprob, std::log(kProbs[6] / z), 1e-5);
  auto two = draw_constrained(s, nullptr, 1, {4, 7}, cs, /*logprobs=*/true);
  ASSERT_EQ(two[0].top.size(), 2u) << "only the allowed tokens are alternatives";
  EXPECT_EQ(two[0].top[1].token, 7);
  EXPECT_NEAR(two[0].top[1].logprob, std::log(kProbs[7] / (kProbs[4] + kProbs[7])), 1e-5);
  // Sampled rows likewise (temperature 1: the processed and original distributions agree).
  SamplingParams p;
  auto sampled = draw_constrained(s, &p, 1, {3, 4}, cs, /*logprobs=*/true);
  const double z34 = kProbs[3] + kProbs[4];
  EXPECT_NEAR(sampled[0].logprob, std::log(kProbs[sampled[0].token] / z34), 1e-5);
  ASSERT_EQ(sampled[0].top.size(), 2u);
}

TEST(SamplerConstraint, ManyRefusalsFallBackToTheExhaustiveMask) {
  // Only an unlikely id is allowed: redraws refuse the others until it is drawn or the row is
  // masked whole; either way the answer is that id, not the fallback (7).
  Sampler s(8);
  SamplingParams p;
  std::vector<SetConstraint> cs;
  auto out = draw_constrained(s, &p, 50, {6}, cs);
  for (const auto& r : out) EXPECT_EQ(r.token, 6);
}

TEST(SamplerConstraint, NothingAllowedEndsWithTheFallbackToken) {
  Sampler s(5);
  SamplingParams p;
  std::vector<SetConstraint> cs;
  auto out = draw_constrained(s, &p, 4, {}, cs);
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].token, 7);
    EXPECT_EQ(cs[i].accepted, std::vector<int32_t>{7});
  }
}

TEST(SamplerConstraint, TokensBannedByPenaltiesAreNeverAllowed) {
  // min_new_tokens bans stop ids through a -inf logit bias; the constraint cannot bring them back.
  Sampler s(6);
  SamplingParams p;
  p.temperature = 0.0f;
  p.logit_bias = {{2, -INFINITY}};
  std::vector<SetConstraint> cs;
  auto out = draw_constrained(s, &p, 1, {2, 6}, cs);
  EXPECT_EQ(out[0].token, 6);
}

TEST(SamplerConstraint, WideVocabularyStopsCheckingOnceTheRestIsNegligible) {
  // One dominant allowed token in a 100k vocabulary: the walk must not ask about every id.
  const int64_t vocab = 100000;
  std::vector<float> logits(vocab, -30.0f);
  logits[123] = 10.0f;
  logits[7] = 12.0f;  // most likely, refused
  SetConstraint c({123, 5000, 99999}, 0);
  SamplingParams p;
  std::vector<RowSampling> rows(1);
  rows[0].params = &p;
  rows[0].constraint = &c;
  Sampler s(7);
  auto out = s.sample(logits.data(), vocab, rows);
  EXPECT_EQ(out[0].token, 123);
  EXPECT_LT(c.asked, 100);
}

}  // namespace
}  // namespace sgl::engine
