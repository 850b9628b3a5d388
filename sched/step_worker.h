// The worker thread that runs forwards: steps are launched in order and their results come back
// in the same order. With the overlap pipeline the scheduler launches step N+1 before it reads
// step N's result; serial mode reads each result right after its launch (same code path).
#pragma once

#include <tbb/concurrent_queue.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "engine/model_runner.h"
#include "sched/req.h"
#include "sched/slot_layout.h"

namespace sgl::sched {

// What a logits row of a step means to the scheduler.
struct RowRole {
  enum class Kind { kSample, kInputLogprob };
  Kind kind = Kind::kSample;
  int32_t req = 0;       // index into StepRecord::reqs
  int64_t position = 0;  // kInputLogprob: the prompt position whose next token the row predicts
};

struct StepRecord {
  engine::StepInput input;
  std::vector<std::shared_ptr<Req>> reqs;  // one per segment: keeps params alive for the worker
  std::vector<RowRole> roles;              // one per logits row
  std::vector<std::shared_ptr<std::vector<int32_t>>> penalty_snapshots;  // output ids for penalties
  // Overlap: a snapshot taken while an earlier step was still running lacks the tokens that step
  // samples. The worker appends them (it runs steps in order, so it knows them) before the forward.
  struct PenaltyFixup {
    int32_t snapshot = 0;  // index into penalty_snapshots
    int32_t req_slot = 0;
    int32_t missing = 0;  // tokens of this request sampled by steps launched before this one
  };
  std::vector<PenaltyFixup> penalty_fixups;
  SlotLayout slot_layout;  // where each request's slots sit in input.batch.kv_slots
  bool is_prefill = false;
  // When the scheduler loop woke up to build this step (idle waiting before it is not a gap).
  std::chrono::steady_clock::time_point ready_since;
  // --show-time-cost: how long schedule_step took, and when the worker ran the forward.
  std::chrono::steady_clock::duration schedule_time{};
  std::chrono::steady_clock::time_point forward_start, forward_end;
  std::optional<Result<engine::StepOutput>> output;
};

class StepWorker {
 public:
  explicit StepWorker(engine::ModelRunner& runner);
  ~StepWorker();
  StepWorker(const StepWorker&) = delete;
  StepWorker& operator=(const StepWorker&) = delete;

  void launch(std::unique_ptr<StepRecord> step);
  // Blocks until the oldest launched step has run and returns it.
  std::unique_ptr<StepRecord> wait_oldest();

  // Time in runner.step, and the device's idle time between a forward and the next one that
  // the scheduler's own work caused (from the later of the previous forward's end and the
  // next step's ready_since, to the next forward's start). Any thread may read them.
  double forward_seconds() const { return static_cast<double>(forward_ns_.load()) * 1e-9; }
  // The forward now running: seconds since it started (0 when none) and its batch's size, for the
  // hung-step watchdog. Any thread may read them.
  double running_forward_seconds() const;
  int64_t running_forward_tokens() const { return running_tokens_.load(); }
  int64_t running_forward_segments() const { return running_segments_.load(); }
  double gap_seconds() const { return static_cast<double>(gap_ns_.load()) * 1e-9; }

 private:
  void run();
  void complete_penalty_snapshots(StepRecord& step) const;
  void remember_sampled(const StepRecord& step);
  engine::ModelRunner& runner_;
  // Worker thread only: the last tokens sampled for each request slot (newest last), enough for
  // the steps that can be in flight at once.
  static constexpr size_t kRecentTokens = 4;
  std::vector<std::vector<int32_t>> recent_;
  std::optional<std::chrono::steady_clock::time_point> last_end_;  // worker thread only
  std::atomic<int64_t> forward_ns_{0};
  std::atomic<int64_t> gap_ns_{0};
  std::atomic<int64_t> running_since_ns_{0};  // steady-clock ns of the forward's start; 0: idle
  std::atomic<int64_t> running_tokens_{0}, running_segments_{0};
  tbb::concurrent_bounded_queue<StepRecord*> todo_;  // nullptr stops the thread
  tbb::concurrent_bounded_queue<StepRecord*> done_;
  std::thread thread_;
};

}  // namespace sgl::sched
