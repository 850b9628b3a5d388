// SGLang's return_routed_experts: the top-k expert ids each token was routed to in every layer,
// kept per KV slot (as SGLang's host buffer), so that a prefix served from the radix cache still
// has the ids computed when its tokens were. Written by the scheduler thread from each step's
// StepOutput::routed_experts; read when a request that asked for them finishes.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/forward_batch.h"

namespace sgl::sched {

class RoutedExpertsTable {
 public:
  // `slots` KV slots of `layers` × `topk` ids each, every one -1 (never computed) at first.
  void init(int64_t slots, int layers, int topk);
  bool enabled() const { return row_ > 0; }
  int64_t row_width() const { return row_; }  // layers × topk
  // The ids of every new token of `batch` (batch token order, row_width() each) into its slot.
  void record(const engine::ForwardBatch& batch, const std::vector<int32_t>& routed);
  // Rows of positions [begin, end) of a request whose KV slots are `slot_table`.
  std::vector<int32_t> gather(const std::vector<int32_t>& slot_table, int64_t begin, int64_t end) const;

 private:
  int64_t row_ = 0;
  std::vector<int32_t> ids_;  // slots × row_
};

}  // namespace sgl::sched
