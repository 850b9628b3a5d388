// A benchmark hook: a runner that does no work. Every sampled row gets a token from a fixed
// cycle at once, without a forward, so a benchmark measures everything around the model — the
// scheduler's bookkeeping (bench_scheduler) or the server's HTTP/SSE path (bench_http through
// sglcpp-server's hidden `--test-zero-cost-runner`).
#pragma once

#include "engine/model_runner.h"

namespace sgl::engine {

class ZeroCostRunner final : public ModelRunner {
 public:
  // `info` is what the scheduler sizes itself from (vocab, context, KV bytes per token);
  // `available_bytes` what it sizes the KV pool from. Tokens cycle through
  // [first_token, first_token + cycle) (clamped to the vocabulary, never an EOS id).
  ZeroCostRunner(ModelInfo info, int64_t available_bytes, int32_t first_token = 100, int32_t cycle = 1000);

  const ModelInfo& info() const override { return info_; }
  Status init_kv_cache(int64_t num_slots, int page_size) override;
  int64_t kv_num_slots() const override { return slots_; }
  // No forward runs, so adapters change nothing: slots are accepted and ignored.
  Status init_lora(const LoraPoolConfig&) override { return ok_status(); }
  Result<StepOutput> step(const StepInput& input) override;
  Status load_weights_from_disk(const std::string&) override { return ok_status(); }
  int64_t available_memory_bytes() const override { return available_bytes_; }

 private:
  ModelInfo info_;
  int64_t available_bytes_;
  std::vector<int32_t> tokens_;
  int64_t slots_ = 0;
  uint64_t steps_ = 0;
};

}  // namespace sgl::engine
