// A minimal batch generation loop over a target runner, with or without EAGLE3 speculation: all
// requests are prefilled in one forward, then decoded together (speculative rounds, or one
// token per step) until each has max_new_tokens (no EOS stop). KV slots come from a page pool
// handed out in scrambled order, so slot tables are paged like the scheduler's. Tests and
// benchmarks use it to compare speculative and plain decoding on the same engine.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "base/result.h"
#include "engine/model_runner.h"
#include "engine/spec/eagle3_draft.h"
#include "sched/spec/eagle_worker.h"

namespace sgl::sched::spec {

struct GenRequest {
  std::vector<int32_t> prompt;
  engine::SamplingParams params;  // temperature 0 = greedy
  int64_t max_new_tokens = 16;
};

struct GenResult {
  std::vector<int32_t> output;
  std::vector<int32_t> accept_lengths;  // tokens gained per verify round (speculative only)
};

class BatchGenerator {
 public:
  // `draft` null: plain decoding. The runner's KV cache must not be initialised yet: the
  // generator sizes it (`num_slots`) and the draft's mirror.
  static Result<std::unique_ptr<BatchGenerator>> create(engine::ModelRunner& target,
                                                        engine::spec::Eagle3Draft* draft, SpecConfig cfg,
                                                        int page_size, int64_t num_slots);
  Result<std::vector<GenResult>> generate(const std::vector<GenRequest>& reqs);
  const RoundStats* spec_stats() const { return worker_ ? &worker_->stats() : nullptr; }

 private:
  BatchGenerator(engine::ModelRunner& target, int page_size, int64_t num_slots);
  struct Seq;
  bool ensure(Seq& s, int64_t positions);
  void shrink(Seq& s, int64_t positions);

  engine::ModelRunner& target_;
  std::unique_ptr<EagleWorker> worker_;
  int ps_;
  std::vector<int32_t> free_pages_;
};

}  // namespace sgl::sched::spec
