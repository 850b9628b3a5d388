// The worker thread that runs forwards: steps are launched in order and their results come back
// in the same order. With the overlap pipeline the scheduler launches step N+1 before it reads
// step N's result; serial mode reads each result right after its launch (same code path).
#pragma once

#include <tbb/concurrent_queue.h>

#include <memory>
#include <thread>
#include <vector>

#include "engine/model_runner.h"
#include "sched/req.h"

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
  bool is_prefill = false;
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

 private:
  void run();
  engine::ModelRunner& runner_;
  tbb::concurrent_bounded_queue<StepRecord*> todo_;  // nullptr stops the thread
  tbb::concurrent_bounded_queue<StepRecord*> done_;
  std::thread thread_;
};

}  // namespace sgl::sched
