// Turns logits rows into sampled tokens and logprobs (greedy, temperature, top-k/p, min-p,
// penalties, logit bias, per-request seeds). Shared by every backend that returns logits to host.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/forward_batch.h"

namespace sgl::engine {

class Sampler {
 public:
  explicit Sampler(uint64_t seed);
  // logits: rows.size() x vocab (fp32, modified in place as scratch). Rows without a seed draw
  // from this sampler's own stream; seeded rows from (seed, step) only, so they repeat exactly.
  std::vector<RowResult> sample(float* logits, int64_t vocab, std::span<const RowSampling> rows);

 private:
  uint64_t state_;
};

}  // namespace sgl::engine
