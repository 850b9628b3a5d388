// The scheduler thread: commands, the overlap/serial loop, flush and weight-swap handling.
#include <malloc.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>

#include "base/idle_trim.h"
#include "base/trace.h"
#include "sched/scheduler_impl.h"
#include "sched/spec/spec_runtime.h"

namespace sgl::sched {

SchedulerImpl::SchedulerImpl(engine::ModelRunner& runner, SchedulerConfig cfg, SchedulerLimits limits)
    : runner_(runner),
      cfg_(std::move(cfg)),
      limits_(limits),
      ps_(limits.page_size),
      pool_(limits.max_total_num_tokens / limits.page_size, limits.page_size),
      radix_(pool_),
      worker_(runner),
      rng_(cfg_.random_seed) {
  hist_ = cfg_.histograms ? cfg_.histograms : std::make_shared<SchedulerHistograms>();
  eos_ids_ = runner.info().eos_token_ids;
  if (cfg_.enable_return_routed_experts)
    routed_.init(runner.kv_num_slots(), runner.info().num_layers, runner.info().num_experts_per_tok);
  lora_.init(cfg_.max_loras_per_batch, cfg_.lora_eviction_lru);
  eos_ids_.insert(eos_ids_.end(), cfg_.extra_eos_token_ids.begin(), cfg_.extra_eos_token_ids.end());
  // SGLang's new-token-ratio schedule: how much of each running request's remaining
  // max_new_tokens to reserve when admitting; decays while decoding goes well.
  init_ratio_ = std::min(0.7 * cfg_.schedule_conservativeness, 1.0);
  min_ratio_ = init_ratio_ * 0.14;
  ratio_decay_ = (init_ratio_ - min_ratio_) / 600.0;
  new_token_ratio_ = init_ratio_;
  interval_start_ = std::chrono::steady_clock::now();
  if (cfg_.spec_draft) {
    // EAGLE3 rounds run on the scheduler thread between serial steps (spec/scheduler_hooks.cpp).
    cfg_.disable_overlap_schedule = true;
    cfg_.enable_mixed_chunk = false;
    const spec::SpecConfig sc{cfg_.spec_num_steps, cfg_.spec_eagle_topk, cfg_.spec_num_draft_tokens, 1,
                              cfg_.random_seed};
    spec_ = std::make_unique<spec::SpecRuntime>(runner, cfg_.spec_draft, sc);
    if (Status s = spec_->init(limits_.max_total_num_tokens); !s.ok())
      spdlog::error("Draft KV cache: {}", s.error().message);
  }
  publish_stats(false);
}

SchedulerImpl::~SchedulerImpl() { stop(); }

void SchedulerImpl::start() {
  thread_ = std::thread([this] { loop(); });
  if (cfg_.watchdog_timeout_s > 0) watchdog_ = std::thread([this] { watchdog_loop(); });
}

void SchedulerImpl::watchdog_loop() {
  const auto period = std::chrono::duration<double>(std::clamp(cfg_.watchdog_timeout_s / 4, 0.01, 1.0));
  std::unique_lock lk(watchdog_mu_);
  while (!watchdog_cv_.wait_for(lk, period, [&] { return watchdog_stop_; })) {
    const double running = worker_.running_forward_seconds();
    if (running <= cfg_.watchdog_timeout_s) continue;
    const SchedulerStats st = stats();
    const std::string report = fmt::format(
        "Watchdog: a forward has run for {:.1f} s (--watchdog-timeout {:.1f} s): {} requests, {} tokens in "
        "the "
        "step; {} running, {} queued, {} KV tokens in use, {} steps so far",
        running, cfg_.watchdog_timeout_s, worker_.running_forward_segments(),
        worker_.running_forward_tokens(), st.num_running_reqs, st.num_queue_reqs, st.num_used_tokens,
        st.num_steps);
    if (cfg_.on_watchdog) {
      cfg_.on_watchdog(report);
    } else {
      spdlog::critical("{}; exiting so that the server is restarted rather than left hanging", report);
      spdlog::default_logger()->flush();
      std::_Exit(1);
    }
    return;  // one report per hang
  }
}

void SchedulerImpl::post(Command cmd) {
  commands_.push(std::move(cmd));
  { std::lock_guard<std::mutex> lk(wake_mu_); }  // pairs with the wait in drain_commands
  wake_cv_.notify_one();
}

void SchedulerImpl::stop() {
  if (watchdog_.joinable()) {
    {
      std::lock_guard lk(watchdog_mu_);
      watchdog_stop_ = true;
    }
    watchdog_cv_.notify_all();
    watchdog_.join();
  }
  if (!thread_.joinable()) return;
  post(CmdShutdown{});
  thread_.join();
}

int32_t SchedulerImpl::take_slot() {
  if (free_slots_.empty()) return num_slots_++;
  const int32_t s = free_slots_.back();
  free_slots_.pop_back();
  return s;
}

bool SchedulerImpl::idle() const {
  if (frozen()) return pending_steps_ == 0 && releasing_.empty();  // waits for continue/resume
  const bool admitting = !paused_ && exclusive_.empty();
  return running_.empty() && !chunked_ && pending_steps_ == 0 && releasing_.empty() &&
         (waiting_.empty() || !admitting) && exclusive_.empty();
}

bool SchedulerImpl::drain_commands(bool block) {
  if (block) {
    std::unique_lock<std::mutex> lk(wake_mu_);
    // After a second without work following a busy spell, the runner hands back the buffers
    // sized by the spell's largest batch (its logits: 608 KiB a row at Qwen3's vocabulary) and
    // what the spell freed goes back to the system at once; the process's IdleMemoryTrimmer
    // (base/idle_trim.h) trims again once the HTTP side is quiet too. Without this resident memory
    // stays at the spell's high-water mark (the soak measured +10 % after 10,000 requests).
    if (worked_since_trim_ &&
        !wake_cv_.wait_for(lk, std::chrono::seconds(1), [&] { return !commands_.empty(); })) {
      worked_since_trim_ = false;
      runner_.release_idle_memory();  // nothing in flight: idle() held before blocking
      malloc_trim(0);
      note_activity();
    }
    wake_cv_.wait(lk, [&] { return !commands_.empty(); });
  }
  Command cmd;
  while (commands_.try_pop(cmd)) {
    handle(cmd);
    if (stopping_) return false;
  }
  return true;
}

void SchedulerImpl::handle(Command& cmd) {
  if (auto* c = std::get_if<CmdSubmit>(&cmd)) {
    for (auto& r : c->reqs) {
      r->ntk_alpha = runner_.info().dynamic_ntk_alpha(r->prompt_len);
      r->lora_uid = r->spec->lora ? r->spec->lora->uid : 0;
      if (r->spec->stop.min_new_tokens > 0) {
        // Before min_new_tokens the stop ids must not be sampled at all (SGLang's min-new-tokens
        // penalizer), not merely ignored.
        auto& bias = r->sampling_min_phase.logit_bias;
        if (!r->spec->stop.ignore_eos)
          for (int32_t id : eos_ids_) bias.emplace_back(id, -1e9f);
        for (int32_t id : r->spec->stop.stop_token_ids) bias.emplace_back(id, -1e9f);
      }
      if (r->spec->constraint) {
        // EOS ends constrained output even with ignore_eos (SGLang's grammar terminates on it).
        r->constraint_stop_ids = eos_ids_;
        for (int32_t id : r->spec->stop.stop_token_ids) r->constraint_stop_ids.push_back(id);
        r->constraint = r->spec->constraint->make(r->constraint_stop_ids);
      }
      by_rid_[r->rid].push_back(r);
      waiting_.push_back(r);
      // From arrival at the scheduler to finish (Perfetto draws it on the request's own track).
      if (trace::recording())
        trace::async_begin("request", r->rid, reinterpret_cast<uintptr_t>(r.get()),
                           trace::Args().add("prompt_tokens", r->prompt_len).add("index", r->index));
    }
  } else if (auto* c = std::get_if<CmdAbort>(&cmd)) {
    auto it = by_rid_.find(c->rid);
    if (it == by_rid_.end()) return;
    for (auto& r : it->second) {
      r->to_abort = true;
      r->abort_message = "Abort request " + c->rid;
    }
  } else if (auto* c = std::get_if<CmdFlush>(&cmd)) {
    const bool busy = !waiting_.empty() || !running_.empty() || chunked_ || pending_steps_ > 0;
    if (!busy) {
      for (auto& r : releasing_) release_if_idle(r);
      releasing_.clear();
      radix_.reset();
      publish_stats(false);  // the caller may read stats() as soon as done() runs
      spdlog::info("Cache flushed successfully!");
    } else {
      spdlog::warn("Cache not flushed because there are pending requests. #queue-req: {}, #running-req: {}",
                   waiting_.size(), running_.size());
    }
    if (c->done) c->done(!busy);
  } else if (auto* c = std::get_if<CmdExclusive>(&cmd)) {
    exclusive_.push_back(std::move(*c));
  } else if (auto* c = std::get_if<CmdPause>(&cmd)) {
    paused_ = c->pause;
  } else if (auto* c = std::get_if<CmdPauseGeneration>(&cmd)) {
    handle_pause_generation(*c);
  } else if (auto* c = std::get_if<CmdDropLora>(&cmd)) {
    lora_.drop(c->uid);
    // Unlocked by now: the server drops an adapter only after its last request finished.
    radix_.drop_namespace(c->uid);
    if (c->done) c->done();
  } else if (auto* c = std::get_if<CmdMemory>(&cmd)) {
    handle_memory(*c);
  } else if (std::holds_alternative<CmdShutdown>(cmd)) {
    stopping_ = true;
  }
}

void SchedulerImpl::launch(std::unique_ptr<StepRecord> step) {
  worked_since_trim_ = true;
  note_activity();
  for (auto& r : step->reqs) ++r->inflight;
  ++pending_steps_;
  ++num_steps_;
  worker_.launch(std::move(step));
}

void SchedulerImpl::process_oldest() {
  using Clock = std::chrono::steady_clock;
  const auto waited_from = Clock::now();
  auto step = worker_.wait_oldest();
  const auto got = Clock::now();
  --pending_steps_;
  for (auto& r : step->reqs) --r->inflight;
  {
    trace::Span span("scheduler", "process_output");
    span.set_args([&] { return trace::Args().add("batch_size", static_cast<int64_t>(step->reqs.size())); });
    process(*step);
  }
  if (spec_ && step->is_prefill) spec_after_prefill(*step);
  if (cfg_.show_time_cost) log_time_cost(*step, got - waited_from, Clock::now() - got);
  recycle(std::move(step));
}

void SchedulerImpl::log_time_cost(const StepRecord& step, Clock::duration waited,
                                  Clock::duration processed) const {
  auto ms = [](Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  spdlog::info(
      "Time cost of {} step ({} reqs, {} tokens): schedule {:.2f} ms, forward {:.2f} ms, waiting for it "
      "{:.2f} ms, process {:.2f} ms",
      step.is_prefill ? "prefill" : "decode", step.input.batch.segments.size(), step.input.batch.num_tokens(),
      ms(step.schedule_time), ms(step.forward_end - step.forward_start), ms(waited), ms(processed));
}

void SchedulerImpl::recycle(std::unique_ptr<StepRecord> step) {
  auto& b = step->input.batch;
  b.input_ids.clear();
  b.positions.clear();
  b.segments.clear();
  // kv_slots stays: the record's SlotLayout updates it in place next time (slot_layout.h).
  b.capture_hidden_layers.clear();
  b.return_row_hidden = false;
  b.trace_precision = false;
  step->input.sampling.clear();
  step->input.lora_loads.clear();
  step->input.return_logits = false;
  step->reqs.clear();
  step->roles.clear();
  step->penalty_snapshots.clear();
  step->penalty_fixups.clear();
  step->is_prefill = false;
  step->output.reset();
  if (spare_steps_.size() < 4) spare_steps_.push_back(std::move(step));
}

void SchedulerImpl::loop() {
  trace::set_thread_name("scheduler");
  for (;;) {
    const bool was_idle = idle();
    if (!drain_commands(was_idle)) break;
    // Device idle time while the loop itself waited for work is not the scheduler's overhead.
    if (was_idle) woke_ = std::chrono::steady_clock::now();
    sweep_aborts();
    const auto schedule_start = std::chrono::steady_clock::now();
    std::unique_ptr<StepRecord> step;
    {
      trace::Span span("scheduler", "schedule");
      step = frozen() ? nullptr : schedule_step();
      if (step)
        span.set_args([&] {
          return trace::Args()
              .add("kind", step->is_prefill ? "prefill" : "decode")
              .add("batch_size", static_cast<int64_t>(step->reqs.size()))
              .add("running", static_cast<int64_t>(running_.size()))
              .add("waiting", static_cast<int64_t>(waiting_.size()));
        });
    }
    const bool launched = step != nullptr;
    if (launched) step->ready_since = woke_;
    if (launched) step->schedule_time = std::chrono::steady_clock::now() - schedule_start;
    if (launched) launch(std::move(step));
    // Overlap: the device runs the step just launched while we finish the previous one.
    const int64_t keep = (launched && !cfg_.disable_overlap_schedule) ? 1 : 0;
    while (pending_steps_ > keep) process_oldest();
    for (size_t i = 0; i < releasing_.size();) {
      if (releasing_[i]->inflight == 0) {
        auto r = std::move(releasing_[i]);
        releasing_.erase(releasing_.begin() + static_cast<std::ptrdiff_t>(i));
        release_if_idle(r);
      } else {
        ++i;
      }
    }
    // A weight swap runs once nothing is in flight or running (admission is held meanwhile).
    if (!exclusive_.empty() && running_.empty() && !chunked_ && pending_steps_ == 0 && releasing_.empty()) {
      auto ex = std::move(exclusive_.front());
      exclusive_.pop_front();
      Status st = ex.task ? ex.task() : ok_status();
      if (st.ok()) radix_.reset();  // cached KV belongs to the old weights
      publish_stats(false);
      if (ex.done) ex.done(std::move(st));
    }
    publish_stats(false);
    if (idle()) new_token_ratio_ = init_ratio_;
  }
  // Shutdown: abort everything live, drain the pipeline, free all KV.
  while (pending_steps_ > 0) process_oldest();
  for (auto& list : {waiting_, running_}) {
    for (auto& r : list) {
      if (!r->done())
        finish(*r, FinishReason{FinishReason::Type::kAbort, {}, {}, 0, "The server is shutting down."});
    }
  }
  if (chunked_ && !chunked_->done())
    finish(*chunked_, FinishReason{FinishReason::Type::kAbort, {}, {}, 0, "The server is shutting down."});
  for (auto& r : releasing_) release_if_idle(r);
  releasing_.clear();
  waiting_.clear();
  running_.clear();
  chunked_.reset();
  for (auto& ex : exclusive_)
    if (ex.done) ex.done(Error{ErrorCode::kUnavailable, "The server is shutting down."});
  exclusive_.clear();
}

SchedulerStats SchedulerImpl::stats() const {
  std::lock_guard<std::mutex> lk(stats_mu_);
  return stats_;
}

}  // namespace sgl::sched
