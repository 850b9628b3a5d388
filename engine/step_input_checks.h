// What every backend checks on a StepInput before its forward, and the overlap pipeline's
// placeholder tokens (a step may name "the token request slot s sampled last step").
#pragma once

#include <cstdint>
#include <vector>

#include "base/result.h"
#include "engine/model_runner.h"

namespace sgl::engine {

// Segments cover input_ids, KV slots and captured layers are in range, one RowSampling per row.
Status validate_step_input(const StepInput& in, const ModelInfo& info, int64_t num_kv_slots);

// Per request slot, the token it sampled last: resolves placeholders in the next step's ids.
class LastSampledTokens {
 public:
  // `ids` with placeholders replaced; any other id must be inside the vocabulary.
  Result<std::vector<int32_t>> resolve(const std::vector<int32_t>& ids, int64_t vocab_size) const;
  // Remembers the tokens this step sampled for its rows' request slots.
  void record(const std::vector<RowSampling>& sampling, const std::vector<RowResult>& rows);

 private:
  std::vector<int32_t> last_;  // -1: nothing sampled yet
};

}  // namespace sgl::engine
