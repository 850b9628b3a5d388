// Test helpers: submit requests to a Scheduler, wait for every stream, collect the outcomes.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sched/data_parallel.h"
#include "sched/scheduler.h"

namespace sgl::sched::testing {

struct Outcome {
  std::vector<int32_t> tokens;
  std::optional<FinishReason> finish;
  int64_t cached_tokens = 0;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  size_t num_chunks = 0;
  std::vector<PositionLogprobs> logprobs;
  std::vector<PositionLogprobs> input_logprobs;
};

class Collector {
 public:
  // Submits; returns false (and records the error) when refused.
  bool submit(Scheduler& s, GenerateRequest req);
  bool submit(DataParallelScheduler& s, GenerateRequest req);
  // Lets go of every stream (a data-parallel replica's load counts a request until then).
  void release_streams() { streams_.clear(); }
  // Blocks until every submitted stream has finished; `tick` runs between waits (e.g. to abort).
  void wait_all(const std::function<void()>& tick = {});
  // rid → outcome per sample index
  std::map<std::string, std::vector<Outcome>> results;
  std::vector<Error> errors;

 private:
  std::function<void()> notifier();
  bool record(const std::string& rid, int32_t n, Result<std::shared_ptr<RequestStream>> r);
  void drain();
  struct Wake {
    std::mutex mu;
    std::condition_variable cv;
    bool woken = false;
  };
  std::shared_ptr<Wake> wake_ = std::make_shared<Wake>();
  std::vector<std::shared_ptr<RequestStream>> streams_;
};

GenerateRequest make_request(std::string rid, std::vector<int32_t> prompt, int64_t max_new);

// ../shared/models/tiny-qwen3 on the CPU engine in float32 with 2 threads (null when ../shared is
// absent or the load fails, which is also reported as a test failure).
std::unique_ptr<engine::ModelRunner> tiny_qwen3_runner();

}  // namespace sgl::sched::testing
