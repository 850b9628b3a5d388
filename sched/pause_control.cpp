// /pause_generation, /continue_generation and /release_memory_occupation on the scheduler
// thread. A pause first processes every launched step, so each request's tokens are all known
// and nothing in flight still uses its KV; then, by mode, it aborts everything (abort), sends
// running requests back to the queue with their KV freed into the radix cache (retract), or
// keeps them as they are (in_place). Retract and in_place freeze the loop: no step is built until
// continue. Every mode stops admission, so requests submitted meanwhile wait in the queue.
#include <spdlog/spdlog.h>

#include "sched/scheduler_impl.h"

namespace sgl::sched {

void Scheduler::pause_generation(PauseMode mode, std::function<void()> done) {
  impl_->post(CmdPauseGeneration{true, mode, std::move(done)});
}
void Scheduler::continue_generation(std::function<void()> done) {
  impl_->post(CmdPauseGeneration{false, PauseMode::kAbort, std::move(done)});
}
void Scheduler::release_memory(MemoryTags tags, std::function<void(Status)> done) {
  impl_->post(CmdMemory{true, tags, std::move(done)});
}
void Scheduler::resume_memory(MemoryTags tags, std::function<void(Status)> done) {
  impl_->post(CmdMemory{false, tags, std::move(done)});
}

void SchedulerImpl::drain_in_flight() {
  while (pending_steps_ > 0) process_oldest();
  for (auto& r : releasing_) release_if_idle(r);  // nothing is in flight any more
  releasing_.clear();
}

void SchedulerImpl::handle_pause_generation(CmdPauseGeneration& c) {
  if (!c.pause) {
    paused_ = false;
    gen_frozen_ = false;
    spdlog::info("Generation continued.");
    publish_stats(false);
    if (c.done) c.done();
    return;
  }
  paused_ = true;
  drain_in_flight();
  const char* name = "abort";
  if (c.mode == PauseMode::kAbort) {
    std::vector<std::shared_ptr<Req>> victims(waiting_.begin(), waiting_.end());
    victims.insert(victims.end(), running_.begin(), running_.end());
    if (chunked_) victims.push_back(chunked_);
    for (auto& r : victims)
      finish(*r, FinishReason{FinishReason::Type::kAbort, {}, {}, 0, "Abort request " + r->rid});
    drain_in_flight();  // the aborted requests' KV comes back now
  } else if (c.mode == PauseMode::kRetract) {
    name = "retract";
    gen_frozen_ = true;
    if (chunked_) {
      auto r = chunked_;
      chunked_.reset();
      retract(r);  // part-way through its prompt: re-prefilled from the radix cache later
      ++paused_window_;
    }
    const auto running = running_;
    for (auto& r : running) retract(r);
    paused_window_ += static_cast<int64_t>(running.size());
  } else {
    name = "in_place";
    gen_frozen_ = true;
  }
  spdlog::info("Generation paused (mode {}). #queue-req: {}, #running-req: {}", name, waiting_.size(),
               running_.size() + (chunked_ ? 1 : 0));
  publish_stats(false);
  if (c.done) c.done();
}

void SchedulerImpl::handle_memory(CmdMemory& c) {
  Status st = c.release ? release_memory(c.tags) : resume_memory(c.tags);
  publish_stats(false);
  if (c.done) c.done(std::move(st));
}

Status SchedulerImpl::release_memory(MemoryTags tags) {
  const bool kv = tags.kv_cache && !memory_released_;
  const bool weights = tags.weights && !weights_released_;
  if (!kv && !weights) return ok_status();  // already released
  drain_in_flight();
  const int64_t holding = static_cast<int64_t>(running_.size()) + (chunked_ ? 1 : 0);
  if (holding > 0)
    return invalid_argument(
        "Cannot release memory occupation while " + std::to_string(holding) +
        " request(s) hold KV cache; pause generation first (POST /pause_generation with mode "
        "\"abort\" or \"retract\") or wait for them to finish.");
  if (spec_) return unsupported("Releasing memory occupation is not supported with speculative decoding.");
  if (weights) {
    SGL_TRY(runner_.release_weights());
    weights_released_ = true;
    spdlog::info("Memory occupation released: model weights ({:.1f} MiB) freed.",
                 double(runner_.info().weight_bytes) / (1 << 20));
  }
  if (kv) {
    radix_.reset();  // every page is free now
    SGL_TRY(runner_.release_kv_cache());
    memory_released_ = true;
    spdlog::info("Memory occupation released: KV cache of {} tokens freed.", limits_.max_total_num_tokens);
  }
  return ok_status();
}

Status SchedulerImpl::resume_memory(MemoryTags tags) {
  if (tags.weights && weights_released_) {
    SGL_TRY(runner_.resume_weights());
    weights_released_ = false;
    spdlog::info("Memory occupation resumed: model weights reloaded.");
  }
  if (tags.kv_cache && memory_released_) {
    Status st = runner_.init_kv_cache(limits_.max_total_num_tokens, limits_.page_size);
    // The pool must come back whole: the scheduler's pages and radix cache were planned for it.
    if (st.ok() && runner_.kv_num_slots() < limits_.max_total_num_tokens) {
      st = Error{ErrorCode::kResourceExhausted,
                 fmt::format("Cannot resume memory occupation: only {} of the KV cache's {} tokens could be "
                             "committed (memory is in use elsewhere); retry later.",
                             runner_.kv_num_slots(), limits_.max_total_num_tokens)};
      (void)runner_.release_kv_cache();
    }
    SGL_TRY(st);
    memory_released_ = false;
    spdlog::info("Memory occupation resumed: KV cache of {} tokens re-created.",
                 limits_.max_total_num_tokens);
  }
  return ok_status();
}

}  // namespace sgl::sched
