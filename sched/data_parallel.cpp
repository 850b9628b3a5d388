#include "sched/data_parallel.h"

#include <algorithm>
#include <mutex>

namespace sgl::sched {

namespace {
// The output a request may still produce, as the scheduler's admission reserves it (SGLang's
// CLIP_MAX_NEW_TOKENS).
constexpr int64_t kClipMaxNewTokens = 4096;

// Calls `done(result)` once `n` parts have reported; `merge` folds each part's result in.
template <class T>
class Gather {
 public:
  Gather(size_t n, T init, std::function<void(T&, T)> merge, std::function<void(T)> done)
      : left_(n), acc_(std::move(init)), merge_(std::move(merge)), done_(std::move(done)) {}
  void part(T value) {
    std::unique_lock lk(mu_);
    merge_(acc_, std::move(value));
    if (--left_ != 0) return;
    T out = std::move(acc_);
    lk.unlock();
    if (done_) done_(std::move(out));
  }

 private:
  std::mutex mu_;
  size_t left_;
  T acc_;
  std::function<void(T&, T)> merge_;
  std::function<void(T)> done_;
};

std::shared_ptr<Gather<Status>> gather_status(size_t n, std::function<void(Status)> done) {
  return std::make_shared<Gather<Status>>(
      n, Status{},
      [](Status& acc, Status s) {
        if (acc.ok() && !s.ok()) acc = std::move(s);
      },
      std::move(done));
}

std::shared_ptr<Gather<bool>> gather_void(size_t n, std::function<void()> done) {
  return std::make_shared<Gather<bool>>(
      n, true, [](bool&, bool) {},
      [d = std::move(done)](bool) {
        if (d) d();
      });
}
}  // namespace

// Keeps a request's load on its replica until the server lets go of the stream.
class DataParallelScheduler::LoadTicket {
 public:
  LoadTicket(std::shared_ptr<RequestStream> stream, std::shared_ptr<ReplicaLoad> load, DpLoad item)
      : stream(std::move(stream)), load_(std::move(load)), item_(item) {
    load_->requests += item_.requests;
    load_->input_tokens += item_.input_tokens;
    load_->output_tokens += item_.output_tokens;
    ++load_->routed;
  }
  ~LoadTicket() {
    load_->requests -= item_.requests;
    load_->input_tokens -= item_.input_tokens;
    load_->output_tokens -= item_.output_tokens;
  }
  LoadTicket(const LoadTicket&) = delete;
  LoadTicket& operator=(const LoadTicket&) = delete;
  std::shared_ptr<RequestStream> stream;

 private:
  std::shared_ptr<ReplicaLoad> load_;
  DpLoad item_;
};

DataParallelScheduler::DataParallelScheduler(std::vector<std::unique_ptr<Scheduler>> replicas,
                                             DpPolicy policy)
    : replicas_(std::move(replicas)),
      policy_(policy),
      prefixes_(static_cast<int>(replicas_.size()), replicas_.front()->limits().max_total_num_tokens) {
  for (size_t i = 0; i < replicas_.size(); ++i) load_.push_back(std::make_shared<ReplicaLoad>());
}

DataParallelScheduler::~DataParallelScheduler() { shutdown(); }

DpLoad DataParallelScheduler::item_load(const GenerateRequest& r) const {
  const int64_t n = std::max<int32_t>(r.n, 1);
  return DpLoad{n, static_cast<int64_t>(r.input_ids.size()),
                n * std::clamp<int64_t>(r.stop.max_new_tokens, 0, kClipMaxNewTokens)};
}

std::vector<DpLoad> DataParallelScheduler::loads() const {
  std::vector<DpLoad> out;
  for (const auto& l : load_)
    out.push_back(DpLoad{l->requests.load(), l->input_tokens.load(), l->output_tokens.load()});
  return out;
}

std::vector<int64_t> DataParallelScheduler::routed_counts() const {
  std::vector<int64_t> out;
  for (const auto& l : load_) out.push_back(l->routed.load());
  return out;
}

int DataParallelScheduler::choose_with(const GenerateRequest& request,
                                       const std::vector<int64_t>* matched) const {
  if (replicas_.size() == 1) return 0;
  const auto l = loads();
  switch (policy_) {
    case DpPolicy::kRoundRobin:
      return static_cast<int>(round_robin_++ % replicas_.size());
    case DpPolicy::kMinRunningQueue:
      return pick_least_loaded(l);
    case DpPolicy::kShapeAware: {
      const DpLoad item = item_load(request);
      return pick_shape_aware(l, item.input_tokens, item.output_tokens);
    }
    case DpPolicy::kCacheAware:
      // A request must compute at least its last token: only the rest can come from a cache.
      return pick_cache_aware(l, matched ? *matched : std::vector<int64_t>{},
                              std::max<int64_t>(static_cast<int64_t>(request.input_ids.size()) - 1, 0));
  }
  return 0;
}

Result<std::shared_ptr<RequestStream>> DataParallelScheduler::submit(GenerateRequest request,
                                                                     std::function<void()> notify) {
  if (replicas_.size() == 1) return replicas_.front()->submit(std::move(request), std::move(notify));
  const uint64_t salt = request.lora ? request.lora->uid : 0;
  std::vector<int64_t> matched;
  if (policy_ == DpPolicy::kCacheAware) matched = prefixes_.match(request.input_ids, salt);
  const int i = choose_with(request, policy_ == DpPolicy::kCacheAware ? &matched : nullptr);
  const DpLoad item = item_load(request);
  std::vector<int32_t> prompt;
  if (policy_ == DpPolicy::kCacheAware) prompt = request.input_ids;
  auto stream = replicas_[static_cast<size_t>(i)]->submit(std::move(request), std::move(notify));
  if (!stream.ok()) return stream;
  if (policy_ == DpPolicy::kCacheAware) prefixes_.record(i, prompt, salt);
  auto ticket = std::make_shared<LoadTicket>(std::move(*stream), load_[static_cast<size_t>(i)], item);
  RequestStream* raw = ticket->stream.get();
  return std::shared_ptr<RequestStream>(std::move(ticket), raw);  // aliasing: owns the ticket
}

void DataParallelScheduler::abort(const std::string& rid) {
  for (auto& r : replicas_) r->abort(rid);
}

void DataParallelScheduler::flush_cache(std::function<void(bool)> done) {
  auto g = std::make_shared<Gather<bool>>(
      replicas_.size(), true, [](bool& acc, bool ok) { acc = acc && ok; }, std::move(done));
  for (auto& r : replicas_) r->flush_cache([g](bool ok) { g->part(ok); });
}

void DataParallelScheduler::run_exclusive(std::function<Status(int replica)> task,
                                          std::function<void(Status)> done) {
  auto g = gather_status(replicas_.size(), std::move(done));
  for (size_t i = 0; i < replicas_.size(); ++i)
    replicas_[i]->run_exclusive([task, i] { return task(static_cast<int>(i)); },
                                [g](Status s) { g->part(std::move(s)); });
}

void DataParallelScheduler::pause() {
  for (auto& r : replicas_) r->pause();
}

void DataParallelScheduler::resume() {
  for (auto& r : replicas_) r->resume();
}

void DataParallelScheduler::pause_generation(PauseMode mode, std::function<void()> done) {
  auto g = gather_void(replicas_.size(), std::move(done));
  for (auto& r : replicas_) r->pause_generation(mode, [g] { g->part(true); });
}

void DataParallelScheduler::continue_generation(std::function<void()> done) {
  auto g = gather_void(replicas_.size(), std::move(done));
  for (auto& r : replicas_) r->continue_generation([g] { g->part(true); });
}

void DataParallelScheduler::release_memory(MemoryTags tags, std::function<void(Status)> done) {
  auto g = gather_status(replicas_.size(), std::move(done));
  for (auto& r : replicas_) r->release_memory(tags, [g](Status s) { g->part(std::move(s)); });
}

void DataParallelScheduler::resume_memory(MemoryTags tags, std::function<void(Status)> done) {
  auto g = gather_status(replicas_.size(), std::move(done));
  for (auto& r : replicas_) r->resume_memory(tags, [g](Status s) { g->part(std::move(s)); });
}

void DataParallelScheduler::drop_lora(uint64_t uid, std::function<void()> done) {
  auto g = gather_void(replicas_.size(), std::move(done));
  for (auto& r : replicas_) r->drop_lora(uid, [g] { g->part(true); });
}

void DataParallelScheduler::shutdown() {
  for (auto& r : replicas_) r->shutdown();
}

std::vector<SchedulerStats> DataParallelScheduler::replica_stats() const {
  std::vector<SchedulerStats> out;
  for (const auto& r : replicas_) out.push_back(r->stats());
  return out;
}

SchedulerStats DataParallelScheduler::stats() const {
  if (replicas_.size() == 1) return replicas_.front()->stats();
  return sum_stats(replica_stats());
}

SchedulerStats sum_stats(const std::vector<SchedulerStats>& replicas) {
  SchedulerStats t;
  if (replicas.empty()) return t;
  double ratio = 0, accept_len = 0, accept_rate = 0;
  for (const SchedulerStats& s : replicas) {
    for (auto [sum, part] : {std::pair{&t.num_running_reqs, s.num_running_reqs},
                             {&t.num_queue_reqs, s.num_queue_reqs},
                             {&t.num_used_tokens, s.num_used_tokens},
                             {&t.num_retractions, s.num_retractions},
                             {&t.num_free_pages, s.num_free_pages},
                             {&t.num_total_pages, s.num_total_pages},
                             {&t.radix_evictable_tokens, s.radix_evictable_tokens},
                             {&t.radix_protected_tokens, s.radix_protected_tokens},
                             {&t.radix_locked_nodes, s.radix_locked_nodes},
                             {&t.num_steps, s.num_steps},
                             {&t.num_generated_tokens, s.num_generated_tokens},
                             {&t.num_prompt_tokens, s.num_prompt_tokens},
                             {&t.num_cached_tokens, s.num_cached_tokens},
                             {&t.num_finished_reqs, s.num_finished_reqs},
                             {&t.num_aborted_reqs, s.num_aborted_reqs},
                             {&t.lora_slots_total, s.lora_slots_total},
                             {&t.lora_slots_used, s.lora_slots_used},
                             {&t.lora_slot_loads, s.lora_slot_loads},
                             {&t.lora_evictions, s.lora_evictions},
                             {&t.max_total_num_tokens, s.max_total_num_tokens},
                             {&t.decode_sum_seq_lens, s.decode_sum_seq_lens},
                             {&t.num_retracted_reqs, s.num_retracted_reqs},
                             {&t.num_paused_reqs, s.num_paused_reqs},
                             {&t.num_retracted_reqs_total, s.num_retracted_reqs_total},
                             {&t.num_retracted_input_tokens, s.num_retracted_input_tokens},
                             {&t.num_retracted_output_tokens, s.num_retracted_output_tokens},
                             {&t.num_decode_passes, s.num_decode_passes},
                             {&t.num_prefill_compute_tokens, s.num_prefill_compute_tokens},
                             {&t.num_prefill_cache_tokens, s.num_prefill_cache_tokens},
                             {&t.num_decode_tokens, s.num_decode_tokens}})
      *sum += part;
    t.gen_throughput += s.gen_throughput;
    t.scheduler_cpu_seconds += s.scheduler_cpu_seconds;
    t.forward_seconds += s.forward_seconds;
    t.forward_gap_seconds += s.forward_gap_seconds;
    ratio += s.new_token_ratio;
    accept_len += s.avg_spec_accept_length;
    accept_rate += s.spec_accept_rate;
  }
  const auto n = static_cast<double>(replicas.size());
  t.new_token_ratio = ratio / n;
  t.avg_spec_accept_length = accept_len / n;
  t.spec_accept_rate = accept_rate / n;
  t.idle = std::all_of(replicas.begin(), replicas.end(), [](const SchedulerStats& s) { return s.idle; });
  t.token_usage = t.max_total_num_tokens > 0
                      ? static_cast<double>(t.num_used_tokens) / static_cast<double>(t.max_total_num_tokens)
                      : 0.0;
  t.cache_hit_rate = t.num_prompt_tokens > 0
                         ? static_cast<double>(t.num_cached_tokens) / static_cast<double>(t.num_prompt_tokens)
                         : 0.0;
  return t;
}

}  // namespace sgl::sched
