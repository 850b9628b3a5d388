#include "engine/testing/zero_cost_runner.h"

#include <algorithm>

namespace sgl::engine {

ZeroCostRunner::ZeroCostRunner(ModelInfo info, int64_t available_bytes, int32_t first_token, int32_t cycle)
    : info_(std::move(info)), available_bytes_(available_bytes) {
  const int64_t vocab = std::max<int64_t>(info_.vocab_size, 1);
  for (int64_t t = first_token; static_cast<int64_t>(tokens_.size()) < cycle; ++t) {
    const auto id = static_cast<int32_t>(t % vocab);
    if (std::find(info_.eos_token_ids.begin(), info_.eos_token_ids.end(), id) == info_.eos_token_ids.end())
      tokens_.push_back(id);
    if (t - first_token > 4 * int64_t{cycle} + vocab) break;  // a vocabulary of EOS ids only
  }
  if (tokens_.empty()) tokens_.push_back(0);
}

Status ZeroCostRunner::init_kv_cache(int64_t num_slots, int page_size) {
  if (num_slots <= 0 || page_size <= 0)
    return invalid_argument("KV cache needs a positive size and page size");
  slots_ = num_slots;
  return ok_status();
}

Result<StepOutput> ZeroCostRunner::step(const StepInput& input) {
  StepOutput out;
  out.vocab_size = info_.vocab_size;
  out.rows.resize(input.sampling.size());
  // Row i of step s: rows differ within a step and a request's tokens differ between steps.
  for (size_t i = 0; i < out.rows.size(); ++i) out.rows[i].token = tokens_[(i + steps_) % tokens_.size()];
  ++steps_;
  return out;
}

}  // namespace sgl::engine
