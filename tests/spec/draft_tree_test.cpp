// The draft tree and its verification, on hand-made inputs.
#include "sched/spec/draft_tree.h"

#include <gtest/gtest.h>

#include <map>

#include "sched/spec/spec_config.h"
#include "sched/spec/tree_verify.h"

namespace sgl::sched::spec {
namespace {

TEST(DraftTree, ChainKeepsEveryStepInOrder) {
  TreeBuilder b(1);
  b.start({0.9f}, {10});
  b.expand({0.8f}, {11});
  b.expand({0.5f}, {12});
  const DraftTree t = b.finish(7, 4);
  EXPECT_EQ(t.tokens, (std::vector<int32_t>{7, 10, 11, 12}));
  EXPECT_EQ(t.parent, (std::vector<int32_t>{-1, 0, 1, 2}));
  EXPECT_EQ(t.depth, (std::vector<int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(t.slot_offset, (std::vector<int32_t>{0, 1, 2, 3}));
  EXPECT_NEAR(t.score[3], 0.9f * 0.8f * 0.5f, 1e-6);
}

TEST(DraftTree, TopkTreeKeepsBestPathsAndParentsBeforeChildren) {
  TreeBuilder b(2);
  b.start({0.6f, 0.3f}, {10, 20});
  // Branch 0 (token 10) → 11 (0.9), 12 (0.05); branch 1 (token 20) → 21 (0.5), 22 (0.4).
  b.expand({0.9f, 0.05f, 0.5f, 0.4f}, {11, 12, 21, 22});
  // Kept: 10→11 (0.54) and 20→21 (0.15); their rows are 0 and 1 of the last forward.
  EXPECT_EQ(b.branch_tokens(), (std::vector<int32_t>{11, 21}));
  EXPECT_EQ(b.branch_source_row(), (std::vector<int32_t>{0, 1}));
  const DraftTree t = b.finish(5, 5);  // 4 best of: 10 .6, 20 .3, 11 .54, 12 .03, 21 .15, 22 .12
  EXPECT_EQ(t.tokens, (std::vector<int32_t>{5, 10, 20, 11, 21}));
  EXPECT_EQ(t.parent, (std::vector<int32_t>{-1, 0, 0, 1, 2}));
  EXPECT_EQ(t.children(0), (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(t.ancestors(4), (std::vector<int32_t>{0, 2}));
  // Best path root→10→11 takes offsets 1, 2; the others follow.
  EXPECT_EQ(t.slot_offset, (std::vector<int32_t>{0, 1, 3, 2, 4}));
}

TEST(TreeVerify, GreedyFollowsTheTargetArgmax) {
  TreeBuilder b(2);
  b.start({0.6f, 0.3f}, {10, 20});
  b.expand({0.9f, 0.05f, 0.5f, 0.4f}, {11, 12, 21, 22});
  const DraftTree t = b.finish(5, 5);  // nodes: 5, 10, 20, 11(10), 21(20)
  // Target wants 20 after the root, 21 after 20, then 99.
  auto r = verify_greedy(t, {20, 0, 21, 0, 99});
  EXPECT_EQ(r.accepted, (std::vector<int32_t>{2, 4}));
  EXPECT_EQ(r.bonus, 99);
  r = verify_greedy(t, {30, 0, 0, 0, 0});  // nothing matches: the target's own token
  EXPECT_TRUE(r.accepted.empty());
  EXPECT_EQ(r.bonus, 30);
}

TEST(TreeVerify, SampledKeepsTheTargetDistribution) {
  // Root with children 1 and 2 (tokens 1, 2) over a 4-token vocabulary: the first emitted token
  // must follow p whatever the drafts are.
  DraftTree t;
  t.tokens = {0, 1, 2};
  t.parent = {-1, 0, 0};
  t.depth = {0, 1, 1};
  t.score = {1, 0.5f, 0.4f};
  t.slot_offset = {0, 1, 2};
  const std::vector<float> p = {0.1f, 0.2f, 0.3f, 0.4f};
  std::mt19937_64 rng(1);
  std::map<int32_t, int> counts;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const std::vector<std::vector<float>> probs = {p, {0, 0, 0, 1}, {0, 0, 0, 1}};
    auto r = verify_sampled(
        t, [&](int node) { return probs[node]; }, rng);
    ++counts[r.accepted.empty() ? r.bonus : t.tokens[r.accepted[0]]];
  }
  for (int tok = 0; tok < 4; ++tok)
    EXPECT_NEAR(static_cast<double>(counts[tok]) / n, p[tok], 0.005) << "token " << tok;
}

TEST(TargetDistribution, TemperatureTopKTopPMinP) {
  const std::vector<float> logits = {2.0f, 1.0f, 0.0f, -1.0f};
  engine::SamplingParams sp;
  sp.temperature = 1.0f;
  auto p = target_distribution(logits.data(), 4, sp);
  double z = std::exp(2.0) + std::exp(1.0) + 1.0 + std::exp(-1.0);
  EXPECT_NEAR(p[0], std::exp(2.0) / z, 1e-6);
  sp.top_k = 2;
  p = target_distribution(logits.data(), 4, sp);
  EXPECT_NEAR(p[0], std::exp(2.0) / (std::exp(2.0) + std::exp(1.0)), 1e-6);
  EXPECT_EQ(p[2], 0.0f);
  sp.top_k = -1;
  sp.top_p = 0.5f;  // the first token alone holds ~0.64
  p = target_distribution(logits.data(), 4, sp);
  EXPECT_NEAR(p[0], 1.0f, 1e-6);
  sp.top_p = 1.0f;
  sp.min_p = 0.2f;  // keeps tokens with p ≥ 0.2·p_max: tokens 0 and 1
  p = target_distribution(logits.data(), 4, sp);
  EXPECT_GT(p[1], 0.0f);
  EXPECT_EQ(p[2], 0.0f);
}

TEST(SpecConfig, DraftTokensBoundedByTheTree) {
  EXPECT_TRUE(validate(SpecConfig{3, 1, 4}).ok());
  EXPECT_FALSE(validate(SpecConfig{3, 1, 5}).ok());
  EXPECT_TRUE(validate(SpecConfig{3, 4, 8}).ok());
  EXPECT_FALSE(validate(SpecConfig{0, 1, 2}).ok());
  EXPECT_FALSE(validate(SpecConfig{3, 1, 1}).ok());
}

}  // namespace
}  // namespace sgl::sched::spec
