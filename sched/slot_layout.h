// Where each request's KV slot list sits inside a step's ForwardBatch::kv_slots, kept from one
// use of a step record to the next. Rebuilding the flat list every step costs the sum of all
// contexts (1024 requests x 4k tokens = 16 MB copied per decode step); here a request keeps its
// region (with headroom) and a step copies only the slots added since the record's last use.
// Segments point at their region through slot_offset; the entries between regions are stale but
// valid slots, which the engine never reads. Holes are compacted away once they dominate.
#pragma once

#include <cstdint>
#include <vector>

namespace sgl::sched {

class SlotLayout {
 public:
  // Starts building a batch into `kv` (the record's kv_slots from its previous use, or empty).
  // `incremental` false: forget everything and append each request's list in full.
  void begin(std::vector<int32_t>& kv, bool incremental);
  // Makes kv[offset, offset + len) equal table[0, len) for the request (`req_slot`, `uid`) whose
  // table has been modified other than by appending `version` times; returns offset.
  int64_t place(std::vector<int32_t>& kv, int32_t req_slot, uint64_t uid, uint64_t version,
                const std::vector<int32_t>& table, int64_t len);

 private:
  struct Region {
    uint64_t uid = 0;  // 0: none
    uint64_t version = 0;
    int64_t offset = 0, cap = 0, filled = 0;
  };
  std::vector<Region> by_req_slot_;
  bool incremental_ = false;
  int64_t live_ = 0;  // capacity of the regions the batch being built uses
};

}  // namespace sgl::sched
