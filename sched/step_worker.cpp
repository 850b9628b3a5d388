#include "sched/step_worker.h"

#include <algorithm>

#include "base/trace.h"

namespace sgl::sched {

StepWorker::StepWorker(engine::ModelRunner& runner) : runner_(runner) {
  thread_ = std::thread([this] { run(); });
}

StepWorker::~StepWorker() {
  todo_.push(nullptr);
  thread_.join();
  StepRecord* s = nullptr;
  while (done_.try_pop(s)) std::unique_ptr<StepRecord> owned(s);  // released at launch
}

void StepWorker::launch(std::unique_ptr<StepRecord> step) { todo_.push(step.release()); }

std::unique_ptr<StepRecord> StepWorker::wait_oldest() {
  StepRecord* s = nullptr;
  done_.pop(s);
  return std::unique_ptr<StepRecord>(s);
}

void StepWorker::run() {
  trace::set_thread_name("forward worker");
  for (;;) {
    StepRecord* s = nullptr;
    todo_.pop(s);
    if (s == nullptr) return;
    complete_penalty_snapshots(*s);
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    if (last_end_) {
      const auto from = std::max(*last_end_, s->ready_since);
      if (start > from) gap_ns_ += std::chrono::duration_cast<std::chrono::nanoseconds>(start - from).count();
    }
    running_tokens_ = s->input.batch.num_tokens();
    running_segments_ = static_cast<int64_t>(s->input.batch.segments.size());
    running_since_ns_ =
        std::chrono::duration_cast<std::chrono::nanoseconds>(start.time_since_epoch()).count();
    trace::note_forward();  // a profile's step limits count forwards
    {
      trace::Span span("forward", s->is_prefill ? "prefill" : "decode");
      span.set_args([&] { return trace::Args()
                        .add("batch_size", static_cast<int64_t>(s->input.batch.segments.size()))
                        .add("num_tokens", s->input.batch.num_tokens()); });
      s->output.emplace(runner_.step(s->input));
    }
    running_since_ns_ = 0;
    last_end_ = Clock::now();
    s->forward_start = start, s->forward_end = *last_end_;
    forward_ns_ += std::chrono::duration_cast<std::chrono::nanoseconds>(*last_end_ - start).count();
    if (s->output->ok()) remember_sampled(*s);
    done_.push(s);
  }
}

double StepWorker::running_forward_seconds() const {
  const int64_t since = running_since_ns_.load();
  if (since == 0) return 0.0;
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  return static_cast<double>(now - since) * 1e-9;
}

void StepWorker::complete_penalty_snapshots(StepRecord& step) const {
  for (const auto& f : step.penalty_fixups) {
    auto& snap = *step.penalty_snapshots[static_cast<size_t>(f.snapshot)];
    const auto slot = static_cast<size_t>(f.req_slot);
    if (slot >= recent_.size()) continue;  // cannot happen: the earlier step sampled for this slot
    const auto& r = recent_[slot];
    const size_t n = std::min(static_cast<size_t>(f.missing), r.size());
    snap.insert(snap.end(), r.end() - static_cast<std::ptrdiff_t>(n), r.end());
  }
}

void StepWorker::remember_sampled(const StepRecord& step) {
  const auto& rows = step.output->value().rows;
  for (size_t i = 0; i < rows.size() && i < step.input.sampling.size(); ++i) {
    const auto& rs = step.input.sampling[i];
    if (!rs.sample || rs.req_slot < 0) continue;
    const auto slot = static_cast<size_t>(rs.req_slot);
    if (slot >= recent_.size()) recent_.resize(slot + 1);
    auto& r = recent_[slot];
    if (r.size() == kRecentTokens) r.erase(r.begin());
    r.push_back(rows[i].token);
  }
}

}  // namespace sgl::sched
