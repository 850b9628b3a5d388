// Data parallelism (--dp-size N): N replicas of the model, each with a scheduler of its own, behind
// one front (SGLang's DataParallelController, in process). A request goes to one replica, chosen
// by --dp-schedule-policy (sched/dp_policy.h); control commands (abort, flush, pause, weight swap,
// memory release) go to every replica and complete when all have. With one replica every call
// passes straight through.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "sched/dp_policy.h"
#include "sched/scheduler.h"

namespace sgl::sched {

class DataParallelScheduler {
 public:
  // `replicas` non-empty; their KV pools sized (Scheduler::create) before.
  DataParallelScheduler(std::vector<std::unique_ptr<Scheduler>> replicas, DpPolicy policy);
  ~DataParallelScheduler();  // shutdown()
  DataParallelScheduler(const DataParallelScheduler&) = delete;
  DataParallelScheduler& operator=(const DataParallelScheduler&) = delete;

  int size() const { return static_cast<int>(replicas_.size()); }
  DpPolicy policy() const { return policy_; }
  Scheduler& replica(int i) { return *replicas_.at(static_cast<size_t>(i)); }
  const Scheduler& replica(int i) const { return *replicas_.at(static_cast<size_t>(i)); }

  // Routes the request to one replica (Scheduler::submit there). The stream returned keeps the
  // replica's load counted until the caller lets go of it (finished, or abandoned after abort).
  Result<std::shared_ptr<RequestStream>> submit(GenerateRequest request, std::function<void()> notify);

  // To every replica (a rid lives on one; the others ignore it).
  void abort(const std::string& rid);
  // done(true) once every replica flushed; false when any refused (requests still running).
  void flush_cache(std::function<void(bool)> done);
  // `task(i)` on replica i's scheduler thread, every replica at once, each paused as
  // Scheduler::run_exclusive; done with the first failure (or ok) once all ran.
  void run_exclusive(std::function<Status(int replica)> task, std::function<void(Status)> done);
  void pause();
  void resume();
  void pause_generation(PauseMode mode, std::function<void()> done);
  void continue_generation(std::function<void()> done);
  void release_memory(MemoryTags tags, std::function<void(Status)> done);
  void resume_memory(MemoryTags tags, std::function<void(Status)> done);
  void drop_lora(uint64_t uid, std::function<void()> done);
  void shutdown();

  // Replica 0's capacity (every replica is planned alike; each pool is its own).
  const SchedulerLimits& limits() const { return replicas_.front()->limits(); }
  // Summed over replicas (ratios recomputed from the sums); replica_stats() one by one.
  SchedulerStats stats() const;
  std::vector<SchedulerStats> replica_stats() const;
  // Shared by the replicas (SchedulerConfig::histograms), so this is every replica's.
  const SchedulerHistograms& histograms() const { return replicas_.front()->histograms(); }
  // Unfinished work routed to each replica and how many requests each was given since start.
  std::vector<DpLoad> loads() const;
  std::vector<int64_t> routed_counts() const;

 private:
  struct ReplicaLoad {
    std::atomic<int64_t> requests{0}, input_tokens{0}, output_tokens{0}, routed{0};
  };
  class LoadTicket;
  DpLoad item_load(const GenerateRequest& request) const;
  int choose_with(const GenerateRequest& request, const std::vector<int64_t>* matched) const;

  std::vector<std::unique_ptr<Scheduler>> replicas_;
  DpPolicy policy_;
  // Shared with the tickets: a stream may outlive the scheduler (a handler ending after shutdown).
  std::vector<std::shared_ptr<ReplicaLoad>> load_;
  mutable std::atomic<uint64_t> round_robin_{0};
  DpPrefixIndex prefixes_;
};

// Sums replicas' stats: counters and gauges add, token_usage and cache_hit_rate are recomputed
// from the sums, idle only when all are.
SchedulerStats sum_stats(const std::vector<SchedulerStats>& replicas);

}  // namespace sgl::sched
