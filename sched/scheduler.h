// The scheduler: one thread that admits requests, builds each step's batch over a paged KV pool
// with a radix prefix cache, hands it to a worker thread that runs the model, and turns results
// into per-request output chunks. Commands arrive on a lock-free queue; nothing here blocks on
// the network or the tokenizer. Behaviour follows SGLang's scheduler (see SGLANG_SPEC.md).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/model_runner.h"
#include "sched/precision_tracer.h"
#include "sched/request.h"
#include "sched/scheduler_metrics.h"

namespace sgl::engine::spec {
class Eagle3Draft;
}

namespace sgl::sched {

struct SchedulerConfig {
  int page_size = 1;
  int64_t max_total_tokens = 0;  // 0: from mem_fraction_static of the runner's free memory
  double mem_fraction_static = 0.88;
  int64_t max_prefill_tokens = 16384;
  int64_t chunked_prefill_size = 4096;   // ≤ 0 disables chunking
  int64_t max_running_requests = 0;      // 0: derived as SGLang does
  int64_t max_queued_requests = 0;       // 0: unlimited; else submit() refuses (ResourceExhausted)
  std::string schedule_policy = "fcfs";  // fcfs | lpm | random | dfs-weight
  double schedule_conservativeness = 1.0;
  bool disable_radix_cache = false;
  bool disable_overlap_schedule = false;
  bool enable_mixed_chunk = false;
  int decode_log_interval = 40;
  int64_t context_length = 0;                // 0: the runner's info().context_length
  uint64_t random_seed = 42;                 // random policy; base of unseeded sampling is the engine's
  std::vector<int32_t> extra_eos_token_ids;  // tokenizer's EOS ids beyond the model's
  // EAGLE3 speculative decoding (sched/spec/): the loaded draft head, null = off. Needs the
  // overlap pipeline off; mixed chunks are not used with it.
  std::shared_ptr<engine::spec::Eagle3Draft> spec_draft;
  int spec_num_steps = 3;
  int spec_eagle_topk = 1;
  int spec_num_draft_tokens = 4;
  // Multi-LoRA (--enable-lora): the runner's adapter slots; distinct adapters in one batch, the
  // base model counting as one, never exceed it. 0: LoRA off (requests with an adapter refused).
  int max_loras_per_batch = 0;
  int max_lora_rank = 0;  // slot capacity (the largest rank allowed)
  engine::LoraModuleSet lora_modules = engine::kAllLoraModules;
  bool lora_eviction_lru = true;  // else fifo (--lora-eviction-policy)
  // SGLang's --watchdog-timeout: a forward running longer than this many seconds is a hang; the
  // watchdog hands `on_watchdog` a report of it (default: log it and exit the process with status
  // 1, so a supervisor restarts a server that would otherwise hang forever). 0: off.
  double watchdog_timeout_s = 0;
  std::function<void(const std::string& report)> on_watchdog;
  // Without max_total_tokens, the pool's bytes at most (0: none): the CPU backend commits its pool
  // at start, so its default is a fixed size rather than most of the machine (--cpu-kv-cache-gib).
  int64_t kv_cache_cap_bytes = 0;
  // SGLang's --show-time-cost: one info line per step with where its time went (building the
  // batch, the forward, processing its output).
  bool show_time_cost = false;
  // Where the per-request histograms go (null: the scheduler's own); data-parallel replicas share
  // one, which /metrics reports.
  std::shared_ptr<SchedulerHistograms> histograms;
  // --enable-precision-tracer: the tracer /start_trace drives (null: off); replicas share it.
  std::shared_ptr<PrecisionTracer> precision_tracer;
  // --enable-return-routed-experts (MoE models): every step captures each token's top-k expert ids
  // per layer, kept per KV slot, for requests with return_routed_experts (sched/routed_experts.h).
  bool enable_return_routed_experts = false;
};

// The capacity the scheduler settled on at start (logged, and reported by /get_server_info).
struct SchedulerLimits {
  int64_t max_total_num_tokens = 0;
  int64_t max_prefill_tokens = 0;
  int64_t chunked_prefill_size = 0;
  int64_t max_running_requests = 0;
  int64_t context_len = 0;
  int64_t max_req_input_len = 0;
  int page_size = 1;
};

// Read-only snapshot for /metrics and /get_server_info (updated by the scheduler every step).
struct SchedulerStats {
  int64_t num_running_reqs = 0;
  int64_t num_queue_reqs = 0;
  int64_t num_used_tokens = 0;  // KV tokens held by requests and the radix cache
  double token_usage = 0.0;     // used / max_total_num_tokens
  double cache_hit_rate = 0.0;  // cached prompt tokens / prompt tokens, over admitted requests
  double gen_throughput = 0.0;  // generated tokens/s over the last log interval
  int64_t num_retractions = 0;
  int64_t num_free_pages = 0;
  int64_t num_total_pages = 0;
  int64_t radix_evictable_tokens = 0;
  int64_t radix_protected_tokens = 0;  // tokens under locked radix nodes
  int64_t radix_locked_nodes = 0;      // nodes with lock_ref > 0 (excluding the root)
  int64_t num_steps = 0;
  int64_t num_generated_tokens = 0;
  int64_t num_prompt_tokens = 0;
  int64_t num_cached_tokens = 0;
  int64_t num_finished_reqs = 0;
  int64_t num_aborted_reqs = 0;
  double new_token_ratio = 0.0;
  double scheduler_cpu_seconds = 0.0;   // CPU time of the scheduler thread so far
  double forward_seconds = 0.0;         // time the worker spent in the runner's forwards so far
  double forward_gap_seconds = 0.0;     // device idle between forwards caused by the scheduler
  bool idle = true;                     // nothing queued, running, in flight or waiting to be freed
  double avg_spec_accept_length = 0.0;  // tokens per speculative verify round (0: no speculation)
  int64_t lora_slots_total = 0;         // --max-loras-per-batch (0: LoRA off)
  int64_t lora_slots_used = 0;          // slots holding an adapter
  int64_t lora_slot_loads = 0;          // adapters put into a slot so far (evictions included)
  int64_t lora_evictions = 0;           // loads that replaced another adapter
  // For /metrics (SGLang's SchedulerStats and counters).
  int64_t max_total_num_tokens = 0;
  int64_t decode_sum_seq_lens = 0;  // tokens (prompt + output) of the requests decoding now
  double spec_accept_rate = 0.0;    // accepted drafts / drafts proposed, since start (0: no speculation)
  // SGLang's num_retracted_reqs / num_paused_reqs gauges: requests retracted because the KV pool
  // ran out / by /pause_generation (retract) since the previous log line (prefill batch or decode
  // interval), as SGLang resets them at each.
  int64_t num_retracted_reqs = 0;
  int64_t num_paused_reqs = 0;
  int64_t num_retracted_reqs_total = 0;  // KV-pool retractions since start, and their tokens
  int64_t num_retracted_input_tokens = 0;
  int64_t num_retracted_output_tokens = 0;
  int64_t num_decode_passes = 0;           // decode forwards (plain or speculative rounds)
  int64_t num_prefill_compute_tokens = 0;  // prompt tokens computed by prefill forwards
  int64_t num_prefill_cache_tokens = 0;    // prompt tokens served from the radix cache at admission
  int64_t num_decode_tokens = 0;           // output tokens past each request's first
};

class SchedulerImpl;

// SGLang's /pause_generation modes: kAbort aborts every queued and running request; kRetract
// moves running requests back to the queue (their KV freed into the radix cache) and stops
// scheduling; kInPlace stops scheduling, keeping requests and their KV. In every mode new
// requests queue until continue_generation().
enum class PauseMode { kAbort, kRetract, kInPlace };
// What /release_memory_occupation and /resume_memory_occupation act on (SGLang's tags; no tags
// means both).
struct MemoryTags {
  bool kv_cache = true;
  bool weights = true;
};

class Scheduler {
 public:
  // Sizes the KV pool (runner.init_kv_cache), logs the capacity, starts the scheduler and worker
  // threads. The runner must outlive the scheduler.
  static Result<std::unique_ptr<Scheduler>> create(engine::ModelRunner& runner, SchedulerConfig config);
  ~Scheduler();  // shutdown(): aborts what is left, joins the threads
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues a request. Refuses at once (never reaching the scheduler thread) a request that could
  // never fit (prompt + max_new_tokens beyond the pool or the context length → InvalidArgument),
  // an empty prompt, or one beyond max_queued_requests (ResourceExhausted). `notify` is called on
  // the scheduler thread when new chunks are ready (see RequestStream).
  Result<std::shared_ptr<RequestStream>> submit(GenerateRequest request, std::function<void()> notify);
  // Aborts a request wherever it is (waiting, prefilling, decoding); its KV is freed at the next
  // step and its stream gets a final chunk with finish type abort. Unknown rids are ignored.
  void abort(const std::string& rid);
  // Frees the radix cache. Refused (done(false)) while requests are waiting or running, as SGLang.
  void flush_cache(std::function<void(bool)> done);
  // Weight swap: stops admitting, lets running requests finish, runs `task` on the scheduler
  // thread (e.g. runner.load_weights_from_disk), flushes the cache when it succeeds, calls
  // done(status), then resumes admission. Requests submitted meanwhile wait in the queue.
  void run_exclusive(std::function<Status()> task, std::function<void(Status)> done);
  // Stops admitting new requests until resume() (requests keep queueing).
  void pause();
  void resume();
  // /pause_generation and /continue_generation (sched/pause_control.cpp). `done` runs on the
  // scheduler thread once the pause is in effect (steps in flight processed, aborts finished).
  void pause_generation(PauseMode mode, std::function<void()> done);
  void continue_generation(std::function<void()> done);
  // /release_memory_occupation: frees the KV pool (runner.release_kv_cache, after flushing the
  // radix cache) and/or the weights (runner.release_weights); refused while any request holds KV
  // (pause first). Nothing is scheduled until resume_memory() has brought back both. Each part is
  // a no-op when already in that state.
  void release_memory(MemoryTags tags, std::function<void(Status)> done);
  void resume_memory(MemoryTags tags, std::function<void(Status)> done);
  // Multi-LoRA: forgets the adapter with this uid (the server unloaded it after its requests
  // finished): its slot is emptied at the next step and its prefix cache freed. `done` runs on the
  // scheduler thread.
  void drop_lora(uint64_t uid, std::function<void()> done);
  // Aborts everything still live and stops the threads. Idempotent.
  void shutdown();

  const SchedulerLimits& limits() const;
  SchedulerStats stats() const;
  // Histograms observed as requests go through the scheduler; any thread may read them.
  const SchedulerHistograms& histograms() const;

 private:
  explicit Scheduler(std::unique_ptr<SchedulerImpl> impl);
  std::unique_ptr<SchedulerImpl> impl_;
};

}  // namespace sgl::sched
