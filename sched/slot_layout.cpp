#include "sched/slot_layout.h"

#include <algorithm>

namespace sgl::sched {
namespace {
// Holes are tolerated up to this many slots beyond the live regions (a few copies' worth).
constexpr int64_t kSlack = 1 << 16;
int64_t headroom(int64_t len) { return len / 4 + 32; }  // decode grows one slot per step
}  // namespace

void SlotLayout::begin(std::vector<int32_t>& kv, bool incremental) {
  const int64_t last_live = live_;
  live_ = 0;
  incremental_ = incremental;
  if (!incremental || static_cast<int64_t>(kv.size()) > 2 * last_live + kSlack) {
    kv.clear();
    by_req_slot_.clear();
  }
}

int64_t SlotLayout::place(std::vector<int32_t>& kv, int32_t req_slot, uint64_t uid, uint64_t version,
                          const std::vector<int32_t>& table, int64_t len) {
  const auto begin = table.begin();
  if (!incremental_ || req_slot < 0) {
    const auto offset = static_cast<int64_t>(kv.size());
    kv.insert(kv.end(), begin, begin + len);
    live_ += len;
    return offset;
  }
  if (static_cast<size_t>(req_slot) >= by_req_slot_.size())
    by_req_slot_.resize(static_cast<size_t>(req_slot) + 1);
  Region& r = by_req_slot_[static_cast<size_t>(req_slot)];
  if (r.uid != uid || r.version != version || len > r.cap) {
    // New to this record, rewritten, or outgrown: a fresh region at the end (the old one, if
    // any, becomes a hole).
    r = Region{uid, version, static_cast<int64_t>(kv.size()), len + headroom(len), len};
    kv.insert(kv.end(), begin, begin + len);
    kv.resize(static_cast<size_t>(r.offset + r.cap), 0);  // headroom: slot 0 is a valid filler
  }
  r.filled = std::min(r.filled, len);
  std::copy(begin + r.filled, begin + len, kv.begin() + r.offset + r.filled);
  r.filled = len;
  live_ += r.cap;
  return r.offset;
}

}  // namespace sgl::sched
