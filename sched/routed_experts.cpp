#include "sched/routed_experts.h"

#include <algorithm>

namespace sgl::sched {

void RoutedExpertsTable::init(int64_t slots, int layers, int topk) {
  row_ = static_cast<int64_t>(layers) * topk;
  ids_.assign(static_cast<size_t>(slots * row_), -1);
}

void RoutedExpertsTable::record(const engine::ForwardBatch& batch, const std::vector<int32_t>& routed) {
  if (row_ == 0 || static_cast<int64_t>(routed.size()) != batch.num_tokens() * row_) return;
  const auto slots = static_cast<int64_t>(ids_.size()) / row_;
  int64_t tok = 0;
  for (const engine::Segment& s : batch.segments) {
    for (int32_t i = 0; i < s.new_len; ++i) {
      const int64_t slot = batch.kv_slots[static_cast<size_t>(s.slot_offset + s.prefix_len + i)];
      if (slot >= 0 && slot < slots)
        std::copy_n(routed.data() + (tok + i) * row_, row_, ids_.data() + slot * row_);
    }
    tok += s.new_len;
  }
}

std::vector<int32_t> RoutedExpertsTable::gather(const std::vector<int32_t>& slot_table, int64_t begin,
                                                int64_t end) const {
  std::vector<int32_t> out;
  end = std::min<int64_t>(end, static_cast<int64_t>(slot_table.size()));
  if (row_ == 0 || begin >= end) return out;
  out.reserve(static_cast<size_t>((end - begin) * row_));
  for (int64_t p = begin; p < end; ++p) {
    const int32_t slot = slot_table[static_cast<size_t>(p)];
    out.insert(out.end(), ids_.begin() + slot * row_, ids_.begin() + (slot + 1) * row_);
  }
  return out;
}

}  // namespace sgl::sched
