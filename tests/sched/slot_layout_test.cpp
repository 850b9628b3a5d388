// SlotLayout keeps kv_slots across uses of a step record and copies only appended slots; every
// segment's range must still equal its request's table exactly, whatever happened in between.
#include "sched/slot_layout.h"

#include <gtest/gtest.h>

#include <random>

namespace sgl::sched {
namespace {

struct FakeReq {
  uint64_t uid = 0;
  uint64_t version = 0;
  std::vector<int32_t> table;
};

TEST(SlotLayout, RangesEqualTablesThroughGrowthRewritesAndSlotReuse) {
  std::mt19937 rng(7);
  constexpr int kSlots = 12;
  std::vector<FakeReq> reqs(kSlots);
  uint64_t next_uid = 1;
  int32_t next_kv = 0;
  for (auto& r : reqs) r.uid = next_uid++;
  // Two records used alternately, as the overlap pipeline does.
  SlotLayout layouts[2];
  std::vector<int32_t> kv[2];
  size_t max_size = 0;
  for (int step = 0; step < 3000; ++step) {
    for (auto& r : reqs) {
      const int op = static_cast<int>(rng() % 100);
      if (op < 80) {
        r.table.push_back(next_kv++ % 100000);  // decode: one appended slot
      } else if (op < 85) {
        const size_t n = 1 + rng() % 300;  // prefill chunk
        for (size_t i = 0; i < n; ++i) r.table.push_back(next_kv++ % 100000);
      } else if (op < 88 && !r.table.empty()) {
        r.table[rng() % r.table.size()] = -5;  // page swapped for the radix tree's copy
        ++r.version;
      } else if (op < 90) {
        r = FakeReq{next_uid++, 0, {}};  // finished; the request slot goes to a new request
      }
    }
    const int which = step % 2;
    layouts[which].begin(kv[which], /*incremental=*/step % 500 != 499);
    std::vector<std::pair<int64_t, int32_t>> placed;
    for (int32_t s = 0; s < kSlots; ++s) {
      if (rng() % 10 == 0 || reqs[s].table.empty()) continue;  // not in this batch
      const auto len = static_cast<int64_t>(reqs[s].table.size());
      placed.emplace_back(
          layouts[which].place(kv[which], s, reqs[s].uid, reqs[s].version, reqs[s].table, len), s);
    }
    for (auto [offset, s] : placed) {
      const auto& t = reqs[s].table;
      ASSERT_LE(offset + static_cast<int64_t>(t.size()), static_cast<int64_t>(kv[which].size()));
      ASSERT_TRUE(std::equal(t.begin(), t.end(), kv[which].begin() + offset))
          << "step " << step << " slot " << s;
    }
    max_size = std::max(max_size, kv[which].size());
  }
  // Holes are compacted: the list never grows far beyond what the live requests need.
  size_t live = 0;
  for (auto& r : reqs) live += r.table.size();
  EXPECT_LT(max_size, 4 * live + (1u << 17));
}

}  // namespace
}  // namespace sgl::sched
