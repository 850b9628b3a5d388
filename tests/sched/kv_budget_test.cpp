#include "sched/kv_budget.h"

#include <gtest/gtest.h>

namespace sgl::sched {
namespace {

constexpr int64_t kGiB = int64_t(1) << 30;

TEST(KvBudget, FractionOfTheAvailableMemoryPageAligned) {
  const KvBudget b = plan_kv_budget(10 * kGiB, 1000, 0.5, 0, 16);
  EXPECT_EQ(b.memory_tokens, 5 * kGiB / 1000);
  EXPECT_EQ(b.tokens, b.memory_tokens / 16 * 16);
  EXPECT_FALSE(b.capped_by_memory);
}

TEST(KvBudget, MaxTotalTokensWinsWhenItFits) {
  const KvBudget b = plan_kv_budget(10 * kGiB, 1000, 0.5, 4096, 1);
  EXPECT_EQ(b.tokens, 4096);
  EXPECT_FALSE(b.capped_by_memory);
}

TEST(KvBudget, MaxTotalTokensBeyondMemoryGetsWhatFitsAndSaysSo) {
  const KvBudget b = plan_kv_budget(kGiB, 1 << 20, 1.0, 1 << 20, 1);
  EXPECT_EQ(b.tokens, 1024);
  EXPECT_TRUE(b.capped_by_memory);
}

TEST(KvBudget, CapBoundsTheDefaultButNotAnExplicitSize) {
  // 4 GiB cap of a 100 GiB share: 4 GiB of tokens.
  EXPECT_EQ(plan_kv_budget(200 * kGiB, 1024, 0.5, 0, 1, 4 * kGiB).tokens, 4 * kGiB / 1024);
  // A share below the cap stays the share.
  EXPECT_EQ(plan_kv_budget(2 * kGiB, 1024, 0.5, 0, 1, 4 * kGiB).tokens, kGiB / 1024);
  // An explicit --max-total-tokens above the cap is honoured (memory allowing).
  EXPECT_EQ(plan_kv_budget(200 * kGiB, 1024, 0.5, 8 << 20, 1, 4 * kGiB).tokens, 8 << 20);
  // Unknown memory: the cap alone.
  EXPECT_EQ(plan_kv_budget(0, 1024, 0.5, 0, 4, 4 * kGiB).tokens, 4 * kGiB / 1024);
}

TEST(KvBudget, NoMemoryAndNoSizeIsZero) { EXPECT_EQ(plan_kv_budget(0, 1024, 0.9, 0, 1).tokens, 0); }

}  // namespace
}  // namespace sgl::sched
