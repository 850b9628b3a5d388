// Penalties read the request's output ids. With the overlap pipeline a step is built while the
// previous one (which samples this request's latest token) is still running, so the scheduler's
// list is one short; the worker completes it before the forward. Overlap on and off must agree.
#include <gtest/gtest.h>

#include "fake_runner.h"
#include "harness.h"
#include "sched/scheduler.h"

namespace sgl::sched {
namespace {
using testing::Collector;
using testing::fake_reference;
using testing::FakeRunner;
using testing::make_request;

std::vector<int32_t> penalty_prompt(int n, int salt) {
  std::vector<int32_t> p;
  for (int i = 0; i < n; ++i) p.push_back(10 + (i * 53 + salt * 211) % 980);
  return p;
}

engine::SamplingParams penalty_params(int i) {
  engine::SamplingParams p;
  p.temperature = 0.0f;
  if (i % 3 == 0) p.frequency_penalty = 0.5f;
  if (i % 3 == 1) p.presence_penalty = 0.7f;
  if (i % 3 == 2) p.repetition_penalty = 1.3f;
  if (i % 4 == 3) {  // seeded sampling with a penalty: the seeded stream must line up too
    p.temperature = 0.8f;
    p.seed = 1000 + static_cast<uint64_t>(i);
  }
  return p;
}

TEST(SchedulerPenalties, OverlapOnAndOffGiveTheSoloOutputs) {
  constexpr int kReqs = 24;
  for (bool overlap : {true, false}) {
    FakeRunner runner;
    Collector c;  // outlives the scheduler, whose thread notifies it
    SchedulerConfig cfg;
    cfg.max_total_tokens = 8192;
    cfg.disable_overlap_schedule = !overlap;
    auto s = Scheduler::create(runner, cfg);
    ASSERT_TRUE(s.ok());
    for (int i = 0; i < kReqs; ++i) {
      auto req = make_request("p" + std::to_string(i), penalty_prompt(20 + i, i), 30 + i);
      req.sampling = penalty_params(i);
      ASSERT_TRUE(c.submit(*s.value(), std::move(req)));
    }
    c.wait_all();
    for (int i = 0; i < kReqs; ++i) {
      const auto& o = c.results["p" + std::to_string(i)].at(0);
      EXPECT_EQ(o.tokens, fake_reference(penalty_prompt(20 + i, i), 30 + i, penalty_params(i), {}))
          << "request " << i << " overlap=" << overlap;
    }
  }
}

// The check above must be able to fail: the fake engine's tokens really depend on the output list.
TEST(SchedulerPenalties, FakeEngineTokensDependOnEveryOutputId) {
  const auto params = penalty_params(0);
  std::vector<int32_t> outs = {5, 6, 7};
  const int32_t full = testing::fake_sample(42, &params, 3, &outs);
  outs.pop_back();
  EXPECT_NE(full, testing::fake_sample(42, &params, 3, &outs));
}

}  // namespace
}  // namespace sgl::sched
