// RoutedExpertsTable: ids recorded per KV slot from a step's batch, gathered by a request's slot
// table (so positions served from the radix cache read what their first computation wrote).
#include "sched/routed_experts.h"

#include <gtest/gtest.h>

namespace sgl::sched {
namespace {

TEST(RoutedExpertsTable, RecordsBySlotAndGathersByPosition) {
  RoutedExpertsTable t;
  EXPECT_FALSE(t.enabled());
  t.init(/*slots=*/16, /*layers=*/2, /*topk=*/2);
  ASSERT_TRUE(t.enabled());
  ASSERT_EQ(t.row_width(), 4);
  // Two segments: request A prefills 3 tokens into slots 5, 9, 2; request B decodes one token at
  // position 4 of its table (slot_offset 3: its prefix slots 0, 1, 3, 4, then 7).
  engine::ForwardBatch b;
  b.kv_slots = {5, 9, 2, 0, 1, 3, 4, 7};
  b.segments.resize(2);
  b.segments[0].prefix_len = 0, b.segments[0].new_len = 3, b.segments[0].slot_offset = 0;
  b.segments[1].prefix_len = 4, b.segments[1].new_len = 1, b.segments[1].slot_offset = 3;
  b.input_ids = {1, 2, 3, 4};
  std::vector<int32_t> routed;
  for (int32_t i = 0; i < 16; ++i) routed.push_back(100 + i);  // token i's row: 100 + 4i ..
  t.record(b, routed);
  EXPECT_EQ(t.gather({5, 9, 2}, 0, 3),
            (std::vector<int32_t>{100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111}));
  EXPECT_EQ(t.gather({5, 9, 2}, 1, 2), (std::vector<int32_t>{104, 105, 106, 107}));
  EXPECT_EQ(t.gather({0, 1, 3, 4, 7}, 4, 5), (std::vector<int32_t>{112, 113, 114, 115}));
  // Never-written slots read -1; ranges past the table are clipped; a mis-sized output is ignored.
  EXPECT_EQ(t.gather({0}, 0, 1), (std::vector<int32_t>{-1, -1, -1, -1}));
  EXPECT_EQ(t.gather({5, 9}, 1, 10).size(), 4u);
  EXPECT_TRUE(t.gather({5, 9}, 2, 2).empty());
  t.record(b, std::vector<int32_t>(3, 0));
  EXPECT_EQ(t.gather({5}, 0, 1), (std::vector<int32_t>{100, 101, 102, 103}));
}

}  // namespace
}  // namespace sgl::sched
