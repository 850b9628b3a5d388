// Abort reaches a request in every state: waiting in the queue, part-way through a chunked
// prefill, and decoding. Each time it ends with finish reason abort within a step or two and all
// of its KV comes back. A gate in front of the fake engine holds the scheduler at a known point.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "fake_runner.h"
#include "harness.h"
#include "sched/scheduler.h"

namespace sgl::sched {
namespace {
using testing::Collector;
using testing::FakeRunner;
using testing::make_request;

// Runs a step only when the test has allowed it.
class GatedRunner final : public testing::WrappedFakeRunner {
 public:
  Result<engine::StepOutput> step(const engine::StepInput& in) override {
    std::unique_lock<std::mutex> lk(mu_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(lk, [&] { return allowed_ > ran_; });
    --waiting_;
    ++ran_;
    if (in.batch.segments.size() == 1 && in.batch.segments[0].logits_start < 0) ++partial_prefills_;
    return forward_step(in);
  }
  void allow(int64_t n) {
    std::lock_guard<std::mutex> lk(mu_);
    allowed_ += n;
    cv_.notify_all();
  }
  void allow_all() { allow(1 << 30); }
  // Blocks until `n` steps have run and the next one is waiting at the gate.
  bool wait_parked_after(int64_t n) {
    std::unique_lock<std::mutex> lk(mu_);
    return cv_.wait_for(lk, std::chrono::seconds(20), [&] { return ran_ >= n && waiting_ > 0; });
  }
  int64_t ran() {
    std::lock_guard<std::mutex> lk(mu_);
    return ran_;
  }
  int64_t partial_prefills() {
    std::lock_guard<std::mutex> lk(mu_);
    return partial_prefills_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t allowed_ = 0, ran_ = 0, waiting_ = 0, partial_prefills_ = 0;
};

std::vector<int32_t> long_prompt(int n) {
  std::vector<int32_t> p;
  for (int i = 0; i < n; ++i) p.push_back(10 + (i * 71) % 980);
  return p;
}

void expect_all_kv_back(Scheduler& s) {
  for (int i = 0; i < 5000 && !s.stats().idle; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const auto st = s.stats();
  EXPECT_TRUE(st.idle);
  EXPECT_EQ(st.radix_locked_nodes, 0);
  EXPECT_EQ(st.num_free_pages * s.limits().page_size + st.radix_evictable_tokens,
            st.num_total_pages * s.limits().page_size);
}

std::unique_ptr<Scheduler> make(GatedRunner& runner, bool overlap) {
  SchedulerConfig cfg;
  cfg.max_total_tokens = 4096;
  cfg.chunked_prefill_size = 32;
  cfg.disable_overlap_schedule = !overlap;
  auto s = Scheduler::create(runner, cfg);
  EXPECT_TRUE(s.ok());
  return s.ok() ? std::move(s).value() : nullptr;
}

TEST(SchedulerAbort, WaitingRequestEndsWithoutRunning) {
  for (bool overlap : {true, false}) {
    GatedRunner runner;
    Collector c;  // outlives the scheduler, whose thread notifies it
    auto s = make(runner, overlap);
    ASSERT_TRUE(s);
    s->pause();  // nothing is admitted: the request stays in the queue
    ASSERT_TRUE(c.submit(*s, make_request("w", long_prompt(40), 50)));
    s->abort("w");
    c.wait_all();
    const auto& o = c.results["w"].at(0);
    ASSERT_TRUE(o.finish);
    EXPECT_EQ(o.finish->type, FinishReason::Type::kAbort);
    EXPECT_TRUE(o.tokens.empty());
    EXPECT_EQ(runner.ran(), 0);
    s->resume();
    runner.allow_all();
    expect_all_kv_back(*s);
  }
}

TEST(SchedulerAbort, RequestInTheMiddleOfAChunkedPrefillStopsThere) {
  for (bool overlap : {true, false}) {
    GatedRunner runner;
    Collector c;  // outlives the scheduler, whose thread notifies it
    auto s = make(runner, overlap);
    ASSERT_TRUE(s);
    ASSERT_TRUE(c.submit(*s, make_request("p", long_prompt(320), 50)));  // 10 chunks of 32
    runner.allow(2);
    ASSERT_TRUE(runner.wait_parked_after(2));
    EXPECT_GE(runner.partial_prefills(), 2);  // it is part-way through its prompt
    s->abort("p");
    runner.allow_all();
    c.wait_all();
    const auto& o = c.results["p"].at(0);
    ASSERT_TRUE(o.finish);
    EXPECT_EQ(o.finish->type, FinishReason::Type::kAbort);
    EXPECT_TRUE(o.tokens.empty());
    // The step at the gate and (overlap) one more already built may run; not the other chunks.
    EXPECT_LE(runner.ran(), 2 + 2);
    expect_all_kv_back(*s);
  }
}

TEST(SchedulerAbort, DecodingRequestStopsAtTheNextStep) {
  for (bool overlap : {true, false}) {
    GatedRunner runner;
    Collector c;  // outlives the scheduler, whose thread notifies it
    auto s = make(runner, overlap);
    ASSERT_TRUE(s);
    auto req = make_request("d", long_prompt(20), 500);
    req.stop.ignore_eos = true;
    ASSERT_TRUE(c.submit(*s, std::move(req)));
    runner.allow(6);  // prefill + decodes
    ASSERT_TRUE(runner.wait_parked_after(6));
    s->abort("d");
    runner.allow_all();
    c.wait_all();
    const auto& o = c.results["d"].at(0);
    ASSERT_TRUE(o.finish);
    EXPECT_EQ(o.finish->type, FinishReason::Type::kAbort);
    EXPECT_GE(o.tokens.size(), 4u);
    EXPECT_LE(o.tokens.size(), 9u);
    EXPECT_LE(runner.ran(), 6 + 2);
    expect_all_kv_back(*s);
  }
}

}  // namespace
}  // namespace sgl::sched
