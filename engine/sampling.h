// Turns logits rows into sampled tokens and logprobs (greedy, temperature, top-k/p, min-p,
// penalties, logit bias, per-request seeds). Shared by every backend that returns logits to host.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/forward_batch.h"

namespace sgl::engine {

// Which distribution the returned logprobs (chosen token, top-N, requested ids) describe. Both
// follow SGLang's sampler: penalties and logit bias are applied to the logits first.
enum class LogprobMode {
  // SGLang's default: log softmax(processed logits / temperature) for sampled rows; greedy rows
  // (temperature ~0) use temperature 1.
  kProcessed,
  // SGLANG_RETURN_ORIGINAL_LOGPROB=1: log softmax(processed logits), before temperature.
  kOriginal,
};

// kOriginal when the environment sets SGLANG_RETURN_ORIGINAL_LOGPROB (or sgl-jax's
// RETURN_ORIGINAL_LOGPROB) to 1/true, else kProcessed.
LogprobMode logprob_mode_from_env();

// Step 1 of the sampler alone: penalties and logit bias of `rs` applied to one logits row in place
// (nothing when rs.params is null). For callers that choose tokens themselves from the processed
// row, such as speculative verification.
void apply_logit_processing(float* logits, int64_t vocab, const RowSampling& rs);

// What Sampler::sample would report for `token` chosen from the processed row `logits` under
// rs.params (greedy or tempered, per `mode`): its logprob, the top-N and the requested ids.
RowResult logprobs_of_token(const float* logits, int64_t vocab, const RowSampling& rs, int32_t token,
                            LogprobMode mode);

class Sampler {
 public:
  explicit Sampler(uint64_t seed) : Sampler(seed, logprob_mode_from_env()) {}
  Sampler(uint64_t seed, LogprobMode mode);

  // logits: rows.size() x vocab (fp32, modified in place as scratch). Rows without a seed draw
  // from this sampler's own stream; seeded rows from (seed, step) only, so they repeat exactly
  // whatever batch they are in. Rows with sample=false (prompt positions) get logprobs of the
  // model's raw distribution only.
  std::vector<RowResult> sample(float* logits, int64_t vocab, std::span<const RowSampling> rows);

  LogprobMode logprob_mode() const { return mode_; }

  // --enable-nan-detection (SGLang's): NaN logits are logged and replaced by -1e5 before sampling,
  // so the request goes on with the finite part of its distribution. Off: rows are trusted.
  void set_nan_detection(bool on) { nan_detection_ = on; }
  // Rows in which NaN logits were found and replaced so far.
  int64_t nan_rows() const { return nan_rows_.load(); }

 private:
  uint64_t state_;
  LogprobMode mode_;
  bool nan_detection_ = false;
  std::atomic<int64_t> nan_rows_{0};
};

}  // namespace sgl::engine
