#include "sched/radix_cache.h"

#include <gtest/gtest.h>

namespace sgl::sched {
namespace {

std::vector<int32_t> pages_for(PagePool& pool, int64_t n) {
  std::vector<int32_t> p;
  EXPECT_TRUE(pool.alloc(n, p));
  return p;
}

TEST(PagePool, AllocatesAllAndRefusesBeyond) {
  PagePool pool(4, 16);
  std::vector<int32_t> got;
  EXPECT_TRUE(pool.alloc(3, got));
  EXPECT_FALSE(pool.alloc(2, got));
  EXPECT_EQ(got.size(), 3u);
  EXPECT_EQ(pool.num_free(), 1);
  pool.free(got.data(), 3);
  EXPECT_EQ(pool.num_free(), 4);
}

TEST(RadixCache, MatchesLongestPageAlignedPrefixAndSplits) {
  PagePool pool(16, 2);
  RadixCache rc(pool);
  std::vector<int32_t> a = {1, 2, 3, 4, 5, 6};
  auto pa = pages_for(pool, 3);
  auto ins = rc.insert(a.data(), 6, pa.data());
  EXPECT_EQ(ins.existing, 0);
  EXPECT_EQ(ins.end, 6);
  std::vector<int32_t> b = {1, 2, 3, 9, 9, 9};
  auto m = rc.match_prefix(b.data(), 6);
  EXPECT_EQ(m.len, 2);  // {1,2} is a whole page; {3} alone is not
  ASSERT_EQ(m.pages.size(), 1u);
  EXPECT_EQ(m.pages[0], pa[0]);
  auto full = rc.match_prefix(a.data(), 5);  // floored to 4
  EXPECT_EQ(full.len, 4);
  EXPECT_EQ(rc.evictable_tokens(), 6);
}

TEST(RadixCache, InsertReportsExistingPrefixAsDuplicate) {
  PagePool pool(16, 1);
  RadixCache rc(pool);
  std::vector<int32_t> a = {5, 6, 7};
  auto pa = pages_for(pool, 3);
  (void)rc.insert(a.data(), 3, pa.data());
  std::vector<int32_t> b = {5, 6, 7, 8};
  auto pb = pages_for(pool, 4);
  auto ins = rc.insert(b.data(), 4, pb.data());
  EXPECT_EQ(ins.existing, 3);
  EXPECT_EQ(ins.end, 4);
  EXPECT_EQ(rc.total_tokens(), 4);
}

TEST(RadixCache, LockedNodesAreProtectedFromEviction) {
  PagePool pool(8, 1);
  RadixCache rc(pool);
  std::vector<int32_t> a = {1, 2, 3}, b = {4, 5};
  auto pa = pages_for(pool, 3), pb = pages_for(pool, 2);
  (void)rc.insert(a.data(), 3, pa.data());
  (void)rc.insert(b.data(), 2, pb.data());
  auto m = rc.match_prefix(a.data(), 3);
  rc.inc_lock(m.node);
  EXPECT_EQ(rc.protected_tokens(), 3);
  EXPECT_EQ(rc.locked_nodes(), 1);
  EXPECT_EQ(rc.evict(100), 2);  // only b's leaf
  EXPECT_EQ(pool.num_free(), 3 + 2);
  rc.dec_lock(m.node);
  EXPECT_EQ(rc.locked_nodes(), 0);
  EXPECT_EQ(rc.evict(100), 3);
  EXPECT_EQ(pool.num_free(), 8);
}

TEST(RadixCache, EvictsLeastRecentlyUsedUnlockedLeaf) {
  PagePool pool(8, 1);
  RadixCache rc(pool);
  std::vector<int32_t> a = {1, 2}, b = {3, 4};
  auto pa = pages_for(pool, 2), pb = pages_for(pool, 2);
  (void)rc.insert(a.data(), 2, pa.data());
  (void)rc.insert(b.data(), 2, pb.data());
  (void)rc.match_prefix(a.data(), 2);  // a is now the most recent
  EXPECT_EQ(rc.evict(1), 2);
  EXPECT_EQ(rc.match_prefix(a.data(), 2).len, 2);
  EXPECT_EQ(rc.match_prefix(b.data(), 2).len, 0);
}

TEST(RadixCache, ResetFreesEverything) {
  PagePool pool(8, 4);
  RadixCache rc(pool);
  std::vector<int32_t> a(16, 3);
  auto pa = pages_for(pool, 4);
  (void)rc.insert(a.data(), 16, pa.data());
  rc.reset();
  EXPECT_EQ(pool.num_free(), 8);
  EXPECT_EQ(rc.total_tokens(), 0);
}

}  // namespace
}  // namespace sgl::sched
