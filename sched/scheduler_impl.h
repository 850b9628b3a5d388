// The scheduler's state and loop (private to sched/). The loop reads like SGLang's:
//   drain commands → schedule next batch (prefill first, else decode) → launch it →
//   process the previous batch's results (overlap) or this one's (serial) → release finished.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>
#include <variant>

#include "sched/lora_slot_table.h"
#include "sched/page_pool.h"
#include "sched/radix_cache.h"
#include "sched/req.h"
#include "sched/routed_experts.h"
#include "sched/scheduler.h"
#include "sched/step_worker.h"

namespace sgl::sched {

namespace spec {
class SpecRuntime;
}

struct CmdSubmit {
  std::vector<std::shared_ptr<Req>> reqs;
};
struct CmdAbort {
  std::string rid;
};
struct CmdFlush {
  std::function<void(bool)> done;
};
struct CmdExclusive {
  std::function<Status()> task;
  std::function<void(Status)> done;
};
struct CmdPause {
  bool pause = true;
};
struct CmdShutdown {};
struct CmdPauseGeneration {  // /pause_generation (pause) and /continue_generation
  bool pause = true;
  PauseMode mode = PauseMode::kAbort;
  std::function<void()> done;
};
struct CmdDropLora {  // an unloaded adapter: free its slot and prefix cache
  uint64_t uid = 0;
  std::function<void()> done;
};
struct CmdMemory {  // /release_memory_occupation (release) and /resume_memory_occupation
  bool release = true;
  MemoryTags tags;
  std::function<void(Status)> done;
};
using Command = std::variant<CmdSubmit, CmdAbort, CmdFlush, CmdExclusive, CmdPause, CmdShutdown,
                             CmdPauseGeneration, CmdMemory, CmdDropLora>;

class SchedulerImpl {
 public:
  SchedulerImpl(engine::ModelRunner& runner, SchedulerConfig cfg, SchedulerLimits limits);
  ~SchedulerImpl();

  void start();
  void post(Command cmd);
  void stop();

  const SchedulerConfig& config() const { return cfg_; }
  const SchedulerLimits& limits() const { return limits_; }
  SchedulerStats stats() const;
  const SchedulerHistograms& histograms() const { return *hist_; }
  std::atomic<int64_t>& queued() { return queued_; }
  uint64_t next_arrival() { return arrival_.fetch_add(1); }

 private:
  // scheduler.cpp: the loop and commands.
  void loop();
  bool drain_commands(bool block);
  void handle(Command& cmd);
  bool idle() const;
  void launch(std::unique_ptr<StepRecord> step);
  void process_oldest();
  // --show-time-cost's line for a step just processed.
  using Clock = std::chrono::steady_clock;
  bool worked_since_trim_ = false;  // steps ran since the runner last released its idle memory
  void log_time_cost(const StepRecord& step, Clock::duration waited, Clock::duration processed) const;
  void recycle(std::unique_ptr<StepRecord> step);
  int32_t take_slot();

  // schedule_batch.cpp: admission, decode, retraction, batch building.
  std::unique_ptr<StepRecord> schedule_step();
  void order_waiting();
  bool add_prefills(StepRecord& step, int64_t mixed_decodes);
  bool prepare_decodes(std::vector<std::shared_ptr<Req>>& decodes,
                       const std::vector<std::shared_ptr<Req>>& exclude);
  void retract(const std::shared_ptr<Req>& req);
  // Ends the request's current ReqStage now (observing its latency) and starts the next.
  void end_stage(Req& req, ReqStage stage);
  // Adapters (uids, 0 = base) of the requests the next forward continues: running, chunked.
  std::vector<uint64_t> live_lora_uids() const;
  // Retracts from `decodes` (SGLang's order: fewest generated tokens, then longest prompt) until
  // the pages they need this step (`pages_needed` each) fit, evicting the radix cache first; a
  // victim goes through `before_retract` first. Returns how many were retracted, or -1 when even
  // the last one cannot fit: it is aborted and `decodes` cleared.
  int64_t retract_until_pages_fit(std::vector<std::shared_ptr<Req>>& decodes,
                                  const std::function<int64_t(const Req&)>& pages_needed,
                                  const std::function<void(Req&)>& before_retract = {});
  bool alloc_pages(int64_t n, std::vector<int32_t>& out);
  bool grow_kv(Req& req, int64_t new_len);
  void fill_slots(Req& req, int64_t from, int64_t to);
  void add_segment(StepRecord& step, const std::shared_ptr<Req>& req, int64_t prefix_len, int64_t new_len,
                   bool sample, int64_t lp_from = -1);
  int64_t input_logprob_from(const Req& req) const;  // first prompt row wanted, -1: none
  void cache_unfinished(Req& req);
  int64_t reserved_decode_tokens() const;

  // process_output.cpp: results → chunks, finishing and freeing.
  void process(StepRecord& step);
  void append_token(Req& req, const engine::RowResult& row);
  void finish(Req& req, FinishReason reason);
  void release_if_idle(const std::shared_ptr<Req>& req);
  void release_kv(Req& req, bool insert);
  void sweep_aborts();
  void publish_stats(bool log_decode);
  // SGLang resets its num_retracted_reqs / num_paused_reqs gauges at each log line: the windows
  // counted since become the published values.
  void roll_log_window();
  // running_before: the running batch before this prefill joined it (what SGLang reports).
  void log_prefill(int64_t new_seq, int64_t new_tokens, int64_t cached_tokens, size_t running_before);

  // pause_control.cpp: /pause_generation, /continue_generation, memory release and resume.
  void handle_pause_generation(CmdPauseGeneration& cmd);
  void handle_memory(CmdMemory& cmd);
  Status release_memory(MemoryTags tags);
  Status resume_memory(MemoryTags tags);
  void drain_in_flight();  // processes every launched step and frees what finished
  // No step is built while frozen (in_place/retract pause, or the KV pool released).
  bool frozen() const { return gen_frozen_ || memory_released_ || weights_released_; }
  bool gen_frozen_ = false;
  bool memory_released_ = false;  // the KV pool
  bool weights_released_ = false;

  // spec/scheduler_hooks.cpp: EAGLE3 speculation (spec_ set only when a draft is configured).
  void spec_after_prefill(StepRecord& step);
  bool spec_decode_step();
  std::unique_ptr<spec::SpecRuntime> spec_;

  engine::ModelRunner& runner_;
  SchedulerConfig cfg_;
  SchedulerLimits limits_;
  int ps_;
  std::vector<int32_t> eos_ids_;
  PagePool pool_;
  RadixCache radix_;
  RoutedExpertsTable routed_;  // --enable-return-routed-experts
  LoraSlotTable lora_;
  StepWorker worker_;

  tbb::concurrent_queue<Command> commands_;
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  std::atomic<int64_t> posted_{0};
  std::atomic<int64_t> queued_{0};
  std::atomic<uint64_t> arrival_{0};
  std::thread thread_;
  bool stopping_ = false;
  // The hung-step watchdog (cfg_.watchdog_timeout_s > 0): its own thread, woken to stop.
  void watchdog_loop();
  std::thread watchdog_;
  std::mutex watchdog_mu_;
  std::condition_variable watchdog_cv_;
  bool watchdog_stop_ = false;

  std::vector<std::shared_ptr<Req>> waiting_;
  std::vector<std::shared_ptr<Req>> running_;
  std::shared_ptr<Req> chunked_;
  std::vector<std::shared_ptr<Req>> releasing_;  // done or retracted, waiting for in-flight steps
  std::unordered_map<std::string, std::vector<std::shared_ptr<Req>>> by_rid_;
  std::vector<int32_t> free_slots_;
  int32_t num_slots_ = 0;
  int64_t pending_steps_ = 0;  // launched, not yet processed
  std::vector<std::unique_ptr<StepRecord>> spare_steps_;

  bool paused_ = false;
  std::deque<CmdExclusive> exclusive_;
  std::mt19937_64 rng_;

  double init_ratio_, min_ratio_, ratio_decay_, new_token_ratio_;
  int64_t num_retractions_ = 0;  // every retraction (KV pool and /pause_generation retract)
  // /metrics: KV-pool retractions and their tokens, pause retractions, per-log-window counts.
  int64_t oom_retracted_ = 0, oom_retracted_input_ = 0, oom_retracted_output_ = 0;
  int64_t retracted_window_ = 0, paused_window_ = 0;
  int64_t retracted_gauge_ = 0, paused_gauge_ = 0;
  int64_t prefill_compute_tokens_ = 0, prefill_cache_tokens_ = 0, first_tokens_ = 0;
  std::shared_ptr<SchedulerHistograms> hist_;  // SchedulerConfig::histograms, or its own
  int64_t num_steps_ = 0;
  int64_t decode_steps_ = 0;
  int64_t generated_ = 0;
  int64_t prompt_tokens_ = 0;
  int64_t cached_prompt_tokens_ = 0;
  int64_t finished_ = 0;
  int64_t aborted_ = 0;
  int64_t interval_tokens_ = 0;
  std::chrono::steady_clock::time_point interval_start_;
  double last_throughput_ = 0.0;
  int64_t last_logged_decode_step_ = 0;
  double cpu_seconds_ = 0.0;
  std::chrono::steady_clock::time_point woke_;  // when the loop last left an idle wait

  mutable std::mutex stats_mu_;
  SchedulerStats stats_;
};

}  // namespace sgl::sched
