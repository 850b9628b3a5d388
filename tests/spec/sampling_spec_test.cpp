// Sampled speculation keeps the target distribution: the first two generated tokens (the first
// from the prefill, the second from a speculative round: an accepted draft or the bonus token) of
// 2,400 seeded samples at temperature 1 against the exact joint distribution p(t1)·p(t2 | t1)
// computed from the target's logits, by a chi-square goodness-of-fit test.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "sched/spec/tree_verify.h"
#include "spec_test_util.h"

namespace sgl::sched::spec {
namespace {

// Logits of the last position of `prompt` with a fresh runner-like step on `gen`'s engine.
std::vector<float> next_logits(engine::ModelRunner& r, const std::vector<int32_t>& prompt, int32_t slot0) {
  engine::StepInput in;
  in.return_logits = true;
  engine::Segment seg;
  seg.new_len = static_cast<int32_t>(prompt.size());
  seg.logits_start = seg.new_len - 1;
  for (size_t p = 0; p < prompt.size(); ++p) {
    in.batch.input_ids.push_back(prompt[p]);
    in.batch.positions.push_back(static_cast<int32_t>(p));
    in.batch.kv_slots.push_back(slot0 + static_cast<int32_t>(p));
  }
  in.batch.segments.push_back(seg);
  in.sampling.resize(1);
  auto out = r.step(in);
  return out.ok() ? out->logits : std::vector<float>{};
}

// Upper quantile of chi-square with `df` degrees of freedom (Wilson–Hilferty), z = 3.09: p = 0.001.
double chi2_critical(int df, double z = 3.09) {
  const double k = df, a = 2.0 / (9.0 * k);
  return k * std::pow(1.0 - a + z * std::sqrt(a), 3.0);
}

void check_distribution(SpecConfig cfg, float top_p) {
  const std::vector<int32_t> prompt = {750, 75698, 1445, 982};  // "def fibonacci(n):\n"
  constexpr int kSamples = 2000;
  testing::Engine spec = testing::make_engine(true, cfg, "bfloat16", 1, 65536);
  ASSERT_TRUE(spec.gen) << spec.error;
  std::vector<GenRequest> reqs(kSamples);
  for (int i = 0; i < kSamples; ++i) {
    reqs[i].prompt = prompt;
    reqs[i].params.temperature = 1.0f;
    reqs[i].params.top_p = top_p;
    reqs[i].params.seed = 1000 + i;
    reqs[i].max_new_tokens = 2;
  }
  std::map<std::pair<int32_t, int32_t>, int> counts;
  double accepted_second = 0;
  for (int b = 0; b < kSamples; b += 25) {  // small batches: logits buffers stay below glibc's mmap threshold
    std::vector<GenRequest> part(reqs.begin() + b, reqs.begin() + b + 25);
    auto got = spec.gen->generate(part);
    ASSERT_TRUE(got.ok()) << got.error().message;
    for (const auto& r : *got) {
      ++counts[{r.output[0], r.output[1]}];
      accepted_second += r.accept_lengths.at(0) > 1;
    }
  }
  // Exact joint distribution from the same engine (a separate runner with its own KV pool).
  testing::Engine plain = testing::make_engine(false, cfg, "bfloat16", 1, 4096);
  ASSERT_TRUE(plain.gen) << plain.error;
  // The plain generator owns the KV pool of plain.target; positions here use slots from 2048 on.
  engine::SamplingParams sp;
  sp.temperature = 1.0f;
  sp.top_p = top_p;
  auto l1 = next_logits(*plain.target, prompt, 2048);
  ASSERT_FALSE(l1.empty());
  const int64_t vocab = plain.target->info().vocab_size;
  const auto p1 = target_distribution(l1.data(), vocab, sp);
  std::map<std::pair<int32_t, int32_t>, double> expected;
  double covered = 0;
  for (int32_t t1 = 0; t1 < vocab; ++t1) {
    if (p1[t1] * kSamples < 1.0) continue;  // rarer first tokens fall into "other"
    auto ext = prompt;
    ext.push_back(t1);
    auto l2 = next_logits(*plain.target, ext, 2048);
    ASSERT_FALSE(l2.empty());
    const auto p2 = target_distribution(l2.data(), vocab, sp);
    for (int32_t t2 = 0; t2 < vocab; ++t2)
      if (p1[t1] * p2[t2] * kSamples >= 5.0) {
        expected[{t1, t2}] = p1[t1] * p2[t2] * kSamples;
        covered += p1[t1] * p2[t2];
      }
  }
  // Cells with at least 5 expected samples, plus one "other" cell for the rest.
  double chi2 = 0, observed_in_cells = 0;
  for (const auto& [cell, e] : expected) {
    const double o = counts.count(cell) ? counts[cell] : 0;
    observed_in_cells += o;
    chi2 += (o - e) * (o - e) / e;
  }
  const double e_other = (1.0 - covered) * kSamples, o_other = kSamples - observed_in_cells;
  int cells = static_cast<int>(expected.size());
  if (e_other >= 5.0) {
    chi2 += (o_other - e_other) * (o_other - e_other) / e_other;
    ++cells;
  }
  const double critical = chi2_critical(cells - 1);
  std::printf(
      "top_p %.2f: %d cells, chi2 %.2f (critical %.2f at p=0.001); second token from an accepted draft "
      "in %.0f%% of samples\n",
      top_p, cells, chi2, critical, 100.0 * accepted_second / kSamples);
  ASSERT_GE(cells, 3) << "the test needs a spread-out distribution";
  EXPECT_LT(chi2, critical);
  EXPECT_GT(accepted_second, 0.1 * kSamples) << "the draft should be accepted often enough to matter";
}

// Tree drafting (2 branches): a root with two children exercises acceptance, the rejection of a
// sibling and sampling from the residual distribution. (A chain is the one-child case.)
TEST(SampledSpec, FirstTwoTokensFollowTheTargetDistribution) {
  if (testing::shared_dir().empty())
    GTEST_SKIP() << "../shared not found: tiny models are not available here";
  check_distribution(SpecConfig{2, 2, 4}, 1.0f);
}

}  // namespace
}  // namespace sgl::sched::spec
