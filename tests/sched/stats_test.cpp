// The forward/idle-gap accounting behind bench_scheduler's overlap figure: forward time is the
// time spent inside the runner, and it is never mistaken for a gap.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "fake_runner.h"
#include "harness.h"
#include "sched/scheduler.h"

namespace sgl::sched {
namespace {

// A fake engine whose every forward takes at least 2 ms.
class SlowRunner final : public testing::WrappedFakeRunner {
 public:
  Result<engine::StepOutput> step(const engine::StepInput& in) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return forward_step(in);
  }
};

TEST(SchedulerStats, ForwardTimeCoversEveryStepAndIsNotCountedAsGap) {
  for (bool overlap : {true, false}) {
    SlowRunner runner;
    testing::Collector c;  // outlives the scheduler, whose thread notifies it
    SchedulerConfig cfg;
    cfg.max_total_tokens = 4096;
    cfg.disable_overlap_schedule = !overlap;
    auto s = Scheduler::create(runner, cfg);
    ASSERT_TRUE(s.ok());
    for (int i = 0; i < 4; ++i) {
      auto req =
          testing::make_request("s" + std::to_string(i), {10, 20, 30, static_cast<int32_t>(40 + i)}, 20);
      req.stop.ignore_eos = true;
      ASSERT_TRUE(c.submit(*s.value(), std::move(req)));
    }
    c.wait_all();
    // The last chunk reaches the client before the scheduler publishes its final numbers.
    for (int i = 0; i < 5000 && !s.value()->stats().idle; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const auto st = s.value()->stats();
    ASSERT_GE(st.num_steps, 20);  // a prefill and 19 decodes at least
    // num_steps counts launches: with overlap the last one may still be running.
    EXPECT_GE(st.forward_seconds, 0.002 * static_cast<double>(st.num_steps - 1)) << "overlap=" << overlap;
    EXPECT_GE(st.forward_gap_seconds, 0.0);
    // Every step slept 2 ms inside the runner; were that counted as gap, the gap would match it.
    EXPECT_LT(st.forward_gap_seconds, st.forward_seconds) << "overlap=" << overlap;
  }
}

}  // namespace
}  // namespace sgl::sched
