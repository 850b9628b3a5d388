// /pause_generation in each mode, mid-generation: abort ends every live request with finish
// reason abort; retract and in_place stop all progress until continue, after which every output
// is exactly what the request gives alone. Requests submitted while paused wait in the queue and
// complete after continue. Also the KV pool's release and resume (/release_memory_occupation).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "fake_runner.h"
#include "harness.h"
#include "sched/scheduler.h"

namespace sgl::sched {
namespace {
using testing::Collector;
using testing::fake_reference;
using testing::make_request;

// Slow enough that a pause lands part-way through generation.
class SlowRunner final : public testing::WrappedFakeRunner {
 public:
  Result<engine::StepOutput> step(const engine::StepInput& in) override {
    std::this_thread::sleep_for(std::chrono::microseconds(500));
    return forward_step(in);
  }
};

std::vector<int32_t> prompt_of(int i, int n) {
  std::vector<int32_t> p;
  for (int k = 0; k < n; ++k) p.push_back(10 + (k * 71 + i * 13) % 980);
  return p;
}

void expect_no_leaks(Scheduler& s) {
  for (int i = 0; i < 5000 && !s.stats().idle; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const auto st = s.stats();
  EXPECT_TRUE(st.idle);
  EXPECT_EQ(st.radix_locked_nodes, 0);
  EXPECT_EQ(st.radix_protected_tokens, 0);
  EXPECT_EQ(st.num_free_pages * s.limits().page_size + st.radix_evictable_tokens,
            st.num_total_pages * s.limits().page_size);
  EXPECT_EQ(st.num_running_reqs, 0);
  EXPECT_EQ(st.num_queue_reqs, 0);
}

void wait_flag(const std::atomic<bool>& f) {
  for (int i = 0; i < 20000 && !f.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_TRUE(f.load());
}

void pause(Scheduler& s, PauseMode mode) {
  std::atomic<bool> done{false};
  s.pause_generation(mode, [&] { done = true; });
  wait_flag(done);
}

void resume(Scheduler& s) {
  std::atomic<bool> done{false};
  s.continue_generation([&] { done = true; });
  wait_flag(done);
}

Status memory(Scheduler& s, bool release, MemoryTags tags = {true, false}) {
  std::atomic<bool> done{false};
  Status out = ok_status();
  auto cb = [&](Status st) {
    out = std::move(st);
    done = true;
  };
  if (release)
    s.release_memory(tags, cb);
  else
    s.resume_memory(tags, cb);
  wait_flag(done);
  return out;
}

std::unique_ptr<Scheduler> make(engine::ModelRunner& runner, bool overlap) {
  SchedulerConfig cfg;
  cfg.max_total_tokens = 4096;
  cfg.chunked_prefill_size = 32;
  cfg.disable_overlap_schedule = !overlap;
  auto s = Scheduler::create(runner, cfg);
  EXPECT_TRUE(s.ok());
  return s.ok() ? std::move(s).value() : nullptr;
}

constexpr int kReqs = 4;
constexpr int64_t kMaxNew = 80;

void run_mode(PauseMode mode, bool overlap) {
  SCOPED_TRACE(::testing::Message() << "mode " << static_cast<int>(mode) << " overlap " << overlap);
  SlowRunner runner;
  Collector c;  // outlives the scheduler, whose thread notifies it
  auto s = make(runner, overlap);
  ASSERT_TRUE(s);
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < kReqs; ++i) {
    prompts.push_back(prompt_of(i, i == kReqs - 1 ? 300 : 20 + i));  // the last one: chunked prefill
    auto req = make_request("r" + std::to_string(i), prompts.back(), kMaxNew);
    req.stop.ignore_eos = true;
    ASSERT_TRUE(c.submit(*s, std::move(req)));
  }
  for (int i = 0; i < 20000 && s->stats().num_generated_tokens < 12; ++i)
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  pause(*s, mode);
  const auto at_pause = s->stats();
  EXPECT_LT(at_pause.num_generated_tokens, kReqs * kMaxNew);  // paused mid-generation
  if (mode == PauseMode::kRetract) {
    EXPECT_EQ(at_pause.num_running_reqs, 0);    // everything went back to the queue...
    EXPECT_EQ(at_pause.radix_locked_nodes, 0);  // ...holding no KV
    EXPECT_EQ(at_pause.num_free_pages * s->limits().page_size + at_pause.radix_evictable_tokens,
              at_pause.num_total_pages * s->limits().page_size);
  }
  if (mode == PauseMode::kInPlace) {
    EXPECT_GT(at_pause.num_running_reqs, 0);  // kept with its KV
  }
  // A request submitted while paused waits.
  const auto late_prompt = prompt_of(99, 17);
  auto late = make_request("late", late_prompt, 30);
  late.stop.ignore_eos = true;
  ASSERT_TRUE(c.submit(*s, std::move(late)));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto paused = s->stats();
  EXPECT_EQ(paused.num_generated_tokens, at_pause.num_generated_tokens) << "progress while paused";
  EXPECT_GE(paused.num_queue_reqs, 1);
  resume(*s);
  c.wait_all();
  for (int i = 0; i < kReqs; ++i) {
    const auto& o = c.results["r" + std::to_string(i)].at(0);
    ASSERT_TRUE(o.finish) << "r" << i;
    if (mode == PauseMode::kAbort) {
      EXPECT_EQ(o.finish->type, FinishReason::Type::kAbort) << "r" << i;
      EXPECT_LT(static_cast<int64_t>(o.tokens.size()), kMaxNew);
    } else {
      EXPECT_EQ(o.finish->type, FinishReason::Type::kLength) << "r" << i << " " << o.finish->message;
      EXPECT_EQ(o.tokens, fake_reference(prompts[static_cast<size_t>(i)], kMaxNew, {0.0f}, {})) << "r" << i;
    }
  }
  const auto& lo = c.results["late"].at(0);
  ASSERT_TRUE(lo.finish);
  EXPECT_EQ(lo.finish->type, FinishReason::Type::kLength);
  EXPECT_EQ(lo.tokens, fake_reference(late_prompt, 30, {0.0f}, {}));
  if (mode == PauseMode::kRetract) {
    EXPECT_GT(s->stats().num_retractions, 0);
  }
  expect_no_leaks(*s);
}

TEST(SchedulerPause, AbortModeAbortsEverythingLiveAndLaterRequestsWait) {
  for (bool overlap : {true, false}) run_mode(PauseMode::kAbort, overlap);
}

TEST(SchedulerPause, RetractModeResumesToTheUnpausedOutputs) {
  for (bool overlap : {true, false}) run_mode(PauseMode::kRetract, overlap);
}

TEST(SchedulerPause, InPlaceModeResumesToTheUnpausedOutputs) {
  for (bool overlap : {true, false}) run_mode(PauseMode::kInPlace, overlap);
}

TEST(SchedulerPause, ReleaseMemoryNeedsIdleAndResumeGivesTheSameOutputs) {
  for (bool overlap : {true, false}) {
    SlowRunner runner;
    Collector c;
    auto s = make(runner, overlap);
    ASSERT_TRUE(s);
    const auto p = prompt_of(5, 40);
    {
      auto req = make_request("before", p, 40);
      req.stop.ignore_eos = true;
      ASSERT_TRUE(c.submit(*s, std::move(req)));
      // Refused while it runs (in_place keeps its KV).
      for (int i = 0; i < 20000 && s->stats().num_generated_tokens < 3; ++i)
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      pause(*s, PauseMode::kInPlace);
      Status st = memory(*s, true);
      ASSERT_FALSE(st.ok());
      EXPECT_NE(st.error().message.find("pause generation first"), std::string::npos);
      resume(*s);
      c.wait_all();
    }
    // Idle (its prefix sits in the radix cache): released, the cache flushed with the pool.
    ASSERT_TRUE(memory(*s, true).ok());
    EXPECT_EQ(runner.kv_num_slots(), 0);
    EXPECT_TRUE(memory(*s, true).ok());  // again: a no-op
    EXPECT_EQ(s->stats().radix_evictable_tokens, 0);
    auto req = make_request("after", p, 40);  // waits while the pool is gone
    req.stop.ignore_eos = true;
    ASSERT_TRUE(c.submit(*s, std::move(req)));
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    EXPECT_EQ(s->stats().num_queue_reqs, 1);
    ASSERT_TRUE(memory(*s, false).ok());
    EXPECT_GT(runner.kv_num_slots(), 0);
    c.wait_all();
    const auto ref = fake_reference(p, 40, {0.0f}, {});
    EXPECT_EQ(c.results["before"].at(0).tokens, ref);
    ASSERT_TRUE(c.results["after"].at(0).finish);
    EXPECT_EQ(c.results["after"].at(0).finish->type, FinishReason::Type::kLength);
    EXPECT_EQ(c.results["after"].at(0).tokens, ref);
    EXPECT_TRUE(memory(*s, false).ok());  // resume when not released: a no-op
    expect_no_leaks(*s);

    // Weights (SGLang's default, no tags, releases both): a request waits until both are back;
    // resuming the KV cache alone does not let it run.
    ASSERT_TRUE(memory(*s, true, MemoryTags{}).ok());
    EXPECT_TRUE(runner.weights_released());
    EXPECT_EQ(runner.kv_num_slots(), 0);
    auto req2 = make_request("weights", p, 40);
    req2.stop.ignore_eos = true;
    ASSERT_TRUE(c.submit(*s, std::move(req2)));
    ASSERT_TRUE(memory(*s, false, MemoryTags{true, false}).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    EXPECT_EQ(s->stats().num_queue_reqs, 1);
    EXPECT_EQ(s->stats().num_generated_tokens, 80);  // "before" and "after" only
    ASSERT_TRUE(memory(*s, false, MemoryTags{false, true}).ok());
    EXPECT_FALSE(runner.weights_released());
    c.wait_all();
    EXPECT_EQ(c.results["weights"].at(0).tokens, ref);
    expect_no_leaks(*s);
  }
}

}  // namespace
}  // namespace sgl::sched
