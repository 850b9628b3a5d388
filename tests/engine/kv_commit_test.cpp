// The CPU KV pool is committed at start (engine/cpu/kv_commit.h): every slot's bytes resident and
// still zero, and a commit that would eat into the machine's reserve stops early at a page boundary.
#include "engine/cpu/kv_commit.h"

#include <gtest/gtest.h>

#include <cstring>

namespace sgl::engine::cpu {
namespace {

constexpr int64_t kMiB = int64_t(1) << 20;

std::vector<Tensor> layers(int n, int64_t slots, int64_t width) {
  std::vector<Tensor> out;
  for (int i = 0; i < n; ++i) out.push_back(Tensor::zeros(DType::kF32, {slots, width}));
  return out;
}

TEST(KvCommit, ReserveIsAThirtySecondOfTheMachineWithinBounds) {
  EXPECT_EQ(host_reserve_bytes({.total = 1024 * kMiB, .usable = 0}), 256 * kMiB);          // floor
  EXPECT_EQ(host_reserve_bytes({.total = 16384 * kMiB, .usable = 0}), 512 * kMiB);         // 1/32
  EXPECT_EQ(host_reserve_bytes({.total = 1024 * 1024 * kMiB, .usable = 0}), 1024 * kMiB);  // ceiling
  EXPECT_EQ(host_available_bytes({.total = 16384 * kMiB, .usable = 8192 * kMiB}), 7680 * kMiB);
  EXPECT_EQ(host_available_bytes({.total = 16384 * kMiB, .usable = 100 * kMiB}), 0);
}

TEST(KvCommit, CommitsEverySlotWhenMemoryAllowsAndKeepsZeros) {
  auto k = layers(3, 4096, 64), v = layers(3, 4096, 64);
  const KvCommit got = commit_kv_slots(
      k, v, 4096, 16, [] { return MemorySnapshot{.total = 64 * 1024 * kMiB, .usable = 32 * 1024 * kMiB}; });
  EXPECT_EQ(got.slots, 4096);
  EXPECT_EQ(got.bytes, 6 * 4096 * 64 * 4);
  for (auto* list : {&k, &v})
    for (const Tensor& t : *list) {
      const auto* p = static_cast<const unsigned char*>(t.data());
      for (int64_t i = 0; i < t.bytes(); i += 4093) ASSERT_EQ(p[i], 0) << i;
    }
}

TEST(KvCommit, StopsAtAPageBoundaryBeforeTheReserve) {
  // 1 slot = 2 layers × (K + V) × 64 KiB = 256 KiB; 4096 slots = 1 GiB. Usable memory shrinks as
  // the probe is asked (another process allocating at the same time): the commit stops early.
  auto k = layers(2, 4096, 16 * 1024), v = layers(2, 4096, 16 * 1024);
  int64_t usable = 1536 * kMiB;
  const MemorySnapshot floor{.total = 8192 * kMiB, .usable = 0};
  const KvCommit got = commit_kv_slots(k, v, 4096, 16, [&] {
    MemorySnapshot m = floor;
    m.usable = usable;
    usable -= 400 * kMiB;  // someone else takes 400 MiB between looks
    return m;
  });
  EXPECT_GT(got.slots, 0);
  EXPECT_LT(got.slots, 4096);
  EXPECT_EQ(got.slots % 16, 0);
  EXPECT_EQ(got.bytes, got.slots * 256 * 1024);
}

TEST(KvCommit, UnknownMemoryCommitsAsPlanned) {
  auto k = layers(1, 1024, 32), v = layers(1, 1024, 32);
  const KvCommit got = commit_kv_slots(k, v, 1024, 1, [] { return MemorySnapshot{}; });
  EXPECT_EQ(got.slots, 1024);
}

}  // namespace
}  // namespace sgl::engine::cpu
