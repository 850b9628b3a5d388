// Greedy EAGLE3 speculation must reproduce plain greedy decoding token for token: chain (topk 1)
// and tree (topk 4) drafting, each request alone and 16 at once, page sizes 1 and 16.
#include <gtest/gtest.h>

#include "spec_test_util.h"

namespace sgl::sched::spec {
namespace {

using testing::Engine;
using testing::make_engine;
using testing::reference_cases;

struct Case {
  int steps, topk, draft_tokens, page_size;
  bool batched;
};

std::vector<GenRequest> requests(const std::vector<testing::RefCase>& cases, int copies) {
  std::vector<GenRequest> reqs;
  for (int c = 0; c < copies; ++c)
    for (const auto& rc : cases) {
      GenRequest r;
      r.prompt = rc.input_ids;
      r.params.temperature = 0.0f;
      r.max_new_tokens = static_cast<int64_t>(rc.greedy_ids.size());
      reqs.push_back(r);
    }
  return reqs;
}

class GreedySpec : public ::testing::TestWithParam<Case> {};

TEST_P(GreedySpec, OutputEqualsPlainGreedy) {
  if (testing::shared_dir().empty())
    GTEST_SKIP() << "../shared not found: tiny models are not available here";
  const Case c = GetParam();
  const auto cases = reference_cases();
  ASSERT_FALSE(cases.empty());
  SpecConfig cfg{c.steps, c.topk, c.draft_tokens};
  // 16 concurrent requests: the 8 reference prompts twice, in one batch.
  const auto reqs = requests(cases, c.batched ? 2 : 1);
  Engine plain = make_engine(false, cfg, "bfloat16", c.page_size);
  Engine spec = make_engine(true, cfg, "bfloat16", c.page_size);
  ASSERT_TRUE(plain.gen && spec.gen) << plain.error << spec.error;
  std::vector<GenResult> want, got;
  if (c.batched) {
    auto w = plain.gen->generate(reqs);
    auto g = spec.gen->generate(reqs);
    ASSERT_TRUE(w.ok() && g.ok());
    want = *w;
    got = *g;
  } else {
    for (const auto& r : reqs) {  // one at a time
      auto w = plain.gen->generate({r});
      auto g = spec.gen->generate({r});
      ASSERT_TRUE(w.ok()) << w.error().message;
      ASSERT_TRUE(g.ok()) << g.error().message;
      want.push_back((*w)[0]);
      got.push_back((*g)[0]);
    }
  }
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].output, want[i].output) << "request " << i;
    int64_t sum = 0;
    for (int32_t a : got[i].accept_lengths) {
      EXPECT_GE(a, 1);
      EXPECT_LE(a, c.steps + 1);
      sum += a;
    }
    EXPECT_GE(sum, static_cast<int64_t>(got[i].output.size()) - 1);
  }
  const double avg = spec.gen->spec_stats()->avg_accept_length();
  EXPECT_GT(avg, 1.5) << "the trained head should get most drafts accepted";
  std::printf("steps %d topk %d draft tokens %d page %d %s: avg accept length %.3f\n", c.steps, c.topk,
              c.draft_tokens, c.page_size, c.batched ? "batched" : "alone", avg);
}

INSTANTIATE_TEST_SUITE_P(Configs, GreedySpec,
                         ::testing::Values(Case{3, 1, 4, 1, false}, Case{2, 1, 3, 1, false},
                                           Case{3, 4, 8, 1, false}, Case{3, 1, 4, 16, true},
                                           Case{3, 4, 8, 16, true}, Case{2, 1, 3, 16, true},
                                           Case{3, 4, 8, 1, true}),
                         [](const auto& info) {
                           const Case& c = info.param;
                           return "s" + std::to_string(c.steps) + "k" + std::to_string(c.topk) + "d" +
                                  std::to_string(c.draft_tokens) + "p" + std::to_string(c.page_size) +
                                  (c.batched ? "x16" : "alone");
                         });

// In float32 the engine's greedy output is the reference's (HF float32), and the accept length of
// chain speculation (3 steps) is within 0.3 of the reference's 3.13.
TEST(AcceptLength, Float32ChainMatchesReference) {
  if (testing::shared_dir().empty())
    GTEST_SKIP() << "../shared not found: tiny models are not available here";
  const auto cases = reference_cases();
  ASSERT_FALSE(cases.empty());
  Engine spec = make_engine(true, SpecConfig{3, 1, 4}, "float32");
  ASSERT_TRUE(spec.gen) << spec.error;
  auto got = spec.gen->generate(requests(cases, 1));
  ASSERT_TRUE(got.ok()) << got.error().message;
  int64_t ref_rounds = 0, ref_tokens = 0, same_rounds = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ((*got)[i].output, cases[i].greedy_ids) << "case " << i;
    for (int32_t a : cases[i].accept_lengths) ref_tokens += a;
    ref_rounds += static_cast<int64_t>(cases[i].accept_lengths.size());
    same_rounds += (*got)[i].accept_lengths == cases[i].accept_lengths;
  }
  const double ref = static_cast<double>(ref_tokens) / static_cast<double>(ref_rounds);
  const double avg = spec.gen->spec_stats()->avg_accept_length();
  std::printf("avg accept length %.4f (reference %.4f); %lld of %zu cases with identical accept lengths\n",
              avg, ref, static_cast<long long>(same_rounds), cases.size());
  EXPECT_NEAR(avg, 3.13, 0.3);
}

}  // namespace
}  // namespace sgl::sched::spec
