// What the scheduler keeps for EAGLE3 speculation: the worker (target + draft), and per live
// request its speculative state (token staging list, committed KV length, draft top-k/hidden).
// Requests are keyed by address; the scheduler calls forget() when it frees a request's KV.
#pragma once

#include <memory>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "engine/model_runner.h"
#include "engine/spec/eagle3_draft.h"
#include "sched/spec/eagle_worker.h"

namespace sgl::sched::spec {

class SpecRuntime {
 public:
  SpecRuntime(engine::ModelRunner& target, std::shared_ptr<engine::spec::Eagle3Draft> draft, SpecConfig cfg);

  // Sizes the draft's KV mirror to the target pool (call after the target's init_kv_cache).
  Status init(int64_t num_slots);

  struct State {
    std::vector<int32_t> tokens;  // staging copy of the request's tokens during a round
    SpecSeq seq;
    bool ready = false;  // draft state set by the final prefill chunk
  };
  State& state(const void* req) { return states_[req]; }
  State* find(const void* req) {
    auto it = states_.find(req);
    return it == states_.end() ? nullptr : &it->second;
  }
  void forget(const void* req) { states_.erase(req); }

  EagleWorker& worker() { return worker_; }
  const std::vector<int>& capture_layers() const { return worker_.capture_layers(); }
  double avg_accept_length() const { return worker_.stats().avg_accept_length(); }
  // SGLang's spec_accept_rate: tokens gained per round (accepted drafts + the bonus token) over the
  // draft tokens each round verifies.
  double accept_rate() const {
    const int n = worker_.config().num_draft_tokens;
    return n > 0 ? avg_accept_length() / n : 0.0;
  }

 private:
  std::shared_ptr<engine::spec::Eagle3Draft> draft_;
  EagleWorker worker_;
  std::unordered_map<const void*, State> states_;
};

}  // namespace sgl::sched::spec
