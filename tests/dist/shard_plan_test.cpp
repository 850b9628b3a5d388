// Which slice each tensor-parallel rank owns: heads, replicated KV heads, MLP columns, vocabulary
// ranges, experts and expert slices — and errors naming the dimension that does not split.
#include "engine/models/shard_plan.h"

#include <gtest/gtest.h>

namespace sgl::engine {
namespace {

ModelConfig config(int heads, int kv_heads, int64_t inter, int64_t vocab, int experts = 0,
                   int64_t moe_inter = 0) {
  ModelConfig c;
  c.num_heads = heads;
  c.num_kv_heads = kv_heads;
  c.head_dim = 128;
  c.hidden_size = 1024;
  c.intermediate_size = inter;
  c.vocab_size = vocab;
  c.num_experts = experts;
  c.moe_intermediate_size = moe_inter;
  return c;
}

TEST(ShardPlan, SplitsHeadsColumnsAndVocabularyContiguously) {
  const auto c = config(16, 8, 4096, 1001);
  for (int r = 0; r < 4; ++r) {
    auto p = ShardPlan::make(c, r, 4, 1);
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(p->q_heads, 4);
    EXPECT_EQ(p->q_head0, 4 * r);
    EXPECT_EQ(p->kv_heads, 2);
    EXPECT_EQ(p->kv_head0, 2 * r);
    EXPECT_EQ(p->inter, 1024);
    EXPECT_EQ(p->inter0, 1024 * r);
    EXPECT_EQ(p->vocab0, 251 * r);  // ceil(1001 / 4) = 251
    EXPECT_EQ(p->vocab, r < 3 ? 251 : 1001 - 3 * 251);
  }
}

TEST(ShardPlan, ReplicatesKvHeadsWhenRanksOutnumberThem) {
  // 96 query heads, 8 KV heads, tp 32 (the mission's layout): 3 query heads and 1 KV head per
  // rank; rank r's queries (heads 3r..3r+2, GQA group 12) all use KV head r / 4.
  const auto c = config(96, 8, 8192, 151936);
  for (int r = 0; r < 32; ++r) {
    auto p = ShardPlan::make(c, r, 32, 1);
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(p->q_heads, 3);
    EXPECT_EQ(p->kv_heads, 1);
    EXPECT_EQ(p->kv_head0, r / 4);
    for (int h = p->q_head0; h < p->q_head0 + p->q_heads; ++h) EXPECT_EQ(h / 12, p->kv_head0) << "rank " << r;
  }
}

TEST(ShardPlan, ExpertGroupsAndExpertTensorParallelism) {
  const auto c = config(16, 8, 4096, 1000, 160, 2560);
  auto etp = ShardPlan::make(c, 5, 8, 1);  // ETP 8: every expert on every rank, 1/8 of its columns
  ASSERT_TRUE(etp.ok());
  EXPECT_EQ(etp->experts, 160);
  EXPECT_EQ(etp->moe_inter, 320);
  EXPECT_EQ(etp->moe_inter0, 5 * 320);
  auto mixed = ShardPlan::make(c, 5, 8, 4);  // 4 expert groups of 2 ranks: rank 5 = group 2, slice 1
  ASSERT_TRUE(mixed.ok());
  EXPECT_EQ(mixed->experts, 40);
  EXPECT_EQ(mixed->expert0, 80);
  EXPECT_EQ(mixed->moe_inter, 1280);
  EXPECT_EQ(mixed->moe_inter0, 1280);
}

TEST(ShardPlan, RefusesUnevenSplitsNamingTheDimension) {
  auto heads = ShardPlan::make(config(12, 4, 4096, 1000), 0, 8, 1);
  ASSERT_FALSE(heads.ok());
  EXPECT_NE(heads.error().message.find("12 attention heads"), std::string::npos) << heads.error().message;
  auto kv = ShardPlan::make(config(24, 6, 4096, 1000), 0, 4, 1);
  ASSERT_FALSE(kv.ok());
  EXPECT_NE(kv.error().message.find("6 KV heads"), std::string::npos) << kv.error().message;
  auto experts = ShardPlan::make(config(128, 8, 8192, 1000, 160, 2560), 0, 64, 64);
  ASSERT_FALSE(experts.ok());
  EXPECT_NE(experts.error().message.find("160 experts"), std::string::npos) << experts.error().message;
  auto ep = ShardPlan::make(config(16, 8, 4096, 1000, 8, 256), 0, 4, 3);
  ASSERT_FALSE(ep.ok());
  EXPECT_NE(ep.error().message.find("--ep-size 3 must divide --tp-size 4"), std::string::npos);
}

TEST(ShardPlan, WholeModelOnOneRank) {
  const auto c = config(16, 8, 4096, 1000, 8, 256);
  auto p = ShardPlan::make(c, 0, 1, 1);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->sharded());
  EXPECT_EQ(p->q_heads, 16);
  EXPECT_EQ(p->kv_heads, 8);
  EXPECT_EQ(p->experts, 8);
  EXPECT_EQ(p->vocab, 1000);
}

}  // namespace
}  // namespace sgl::engine
