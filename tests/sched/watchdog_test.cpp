// --watchdog-timeout: a forward that hangs past the timeout is reported once (with the step's size
// and the scheduler's state); a forward that finishes in time never is.
#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>

#include "fake_runner.h"
#include "harness.h"
#include "sched/scheduler.h"

namespace sgl::sched {
namespace {

// The fake engine, with every step held until release() (a hung kernel, a dead device).
class HangingRunner final : public engine::ModelRunner {
 public:
  const engine::ModelInfo& info() const override { return inner_.info(); }
  Status init_kv_cache(int64_t n, int page) override { return inner_.init_kv_cache(n, page); }
  int64_t kv_num_slots() const override { return inner_.kv_num_slots(); }
  Result<engine::StepOutput> step(const engine::StepInput& in) override {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return released_; });
    return inner_.step(in);
  }
  Status load_weights_from_disk(const std::string&) override { return ok_status(); }
  int64_t available_memory_bytes() const override { return inner_.available_memory_bytes(); }
  void release() {
    std::lock_guard lk(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  testing::FakeRunner inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
};

TEST(Watchdog, AHungForwardIsReportedOnce) {
  HangingRunner runner;
  SchedulerConfig cfg;
  cfg.max_total_tokens = 1024;
  cfg.watchdog_timeout_s = 0.2;
  std::promise<std::string> reported;
  int reports = 0;
  cfg.on_watchdog = [&](const std::string& r) {
    if (reports++ == 0) reported.set_value(r);
  };
  auto s = Scheduler::create(runner, cfg);
  ASSERT_TRUE(s.ok());
  testing::Collector c;
  ASSERT_TRUE(c.submit(**s, testing::make_request("hang", {5, 6, 7, 8}, 4)));
  auto f = reported.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready) << "no watchdog report";
  const std::string report = f.get();
  EXPECT_NE(report.find("--watchdog-timeout 0.2"), std::string::npos) << report;
  EXPECT_NE(report.find("1 requests, 4 tokens"), std::string::npos) << report;
  runner.release();
  c.wait_all();
  (*s)->shutdown();
  EXPECT_EQ(reports, 1);
}

TEST(Watchdog, ForwardsThatFinishInTimeAreNotReported) {
  testing::FakeRunner runner;
  SchedulerConfig cfg;
  cfg.max_total_tokens = 1024;
  cfg.watchdog_timeout_s = 0.5;
  int reports = 0;
  cfg.on_watchdog = [&](const std::string&) { ++reports; };
  auto s = Scheduler::create(runner, cfg);
  ASSERT_TRUE(s.ok());
  testing::Collector c;
  for (int i = 0; i < 8; ++i)
    ASSERT_TRUE(c.submit(**s, testing::make_request("r" + std::to_string(i), {1, 2, 3}, 16)));
  c.wait_all();
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  (*s)->shutdown();
  EXPECT_EQ(reports, 0);
}

}  // namespace
}  // namespace sgl::sched
