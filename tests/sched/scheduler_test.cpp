#include "sched/scheduler.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "fake_runner.h"
#include "harness.h"
#include "workload.h"

namespace sgl::sched {
namespace {
using testing::Collector;
using testing::fake_reference;
using testing::FakeRunner;
using testing::kEos;
using testing::make_request;

std::unique_ptr<Scheduler> make_scheduler(FakeRunner& runner, SchedulerConfig cfg) {
  auto s = Scheduler::create(runner, std::move(cfg));
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return s.ok() ? std::move(s).value() : nullptr;
}

// After everything finished: every page is either free or held by the (unlocked) radix cache.
void expect_no_leaks(Scheduler& s) {
  // The last chunk reaches the client just before the scheduler frees the request: wait for it.
  for (int i = 0; i < 5000 && !s.stats().idle; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto st = s.stats();
  EXPECT_TRUE(st.idle);
  EXPECT_EQ(st.radix_locked_nodes, 0);
  EXPECT_EQ(st.radix_protected_tokens, 0);
  EXPECT_EQ(st.num_free_pages * s.limits().page_size + st.radix_evictable_tokens,
            st.num_total_pages * s.limits().page_size);
  EXPECT_EQ(st.num_running_reqs, 0);
  EXPECT_EQ(st.num_queue_reqs, 0);
  bool flushed = false;
  std::atomic<bool> done{false};
  s.flush_cache([&](bool ok) {
    flushed = ok;
    done = true;
  });
  while (!done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_TRUE(flushed);
  EXPECT_EQ(s.stats().num_free_pages, st.num_total_pages);
}

// Runs the workload and checks each output against the request run alone.
void run_and_compare(const SchedulerConfig& cfg, const std::vector<testing::Spec>& work,
                     const std::string& what) {
  FakeRunner runner(kEos);
  auto s = make_scheduler(runner, cfg);
  ASSERT_TRUE(s);
  Collector c;
  for (auto& w : work) ASSERT_TRUE(c.submit(*s, make_request(w.rid, w.prompt, w.max_new)));
  c.wait_all();
  for (auto& w : work) {
    auto ref = fake_reference(w.prompt, w.max_new, {0.0f}, kEos);
    const auto& o = c.results[w.rid].at(0);
    ASSERT_TRUE(o.finish.has_value()) << what << " rid " << w.rid << " did not finish";
    ASSERT_NE(o.finish->type, FinishReason::Type::kAbort) << what << " " << o.finish->message;
    EXPECT_EQ(o.tokens, ref) << what << " rid " << w.rid;
    EXPECT_EQ(o.completion_tokens, static_cast<int64_t>(ref.size()));
    EXPECT_EQ(o.prompt_tokens, static_cast<int64_t>(w.prompt.size()));
  }
  expect_no_leaks(*s);
}

TEST(Scheduler, SingleRequestMatchesReference) {
  SchedulerConfig cfg;
  cfg.max_total_tokens = 4096;
  run_and_compare(cfg, testing::mixed_workload(1, 1), "single");
}

// Invariance grid from the issue: every combination gives each request its solo output.
TEST(Scheduler, InvarianceGridMatchesSoloOutputs) {
  const auto work = testing::mixed_workload(64, 7);
  for (bool overlap : {true, false})
    for (bool radix : {true, false})
      for (int64_t chunk : {16, 64, -1})
        for (int page : {1, 16, 64})
          for (bool mixed : {false, true})
            for (const char* policy : {"fcfs", "lpm"}) {
              SchedulerConfig cfg;
              cfg.max_total_tokens = 16384;
              cfg.disable_overlap_schedule = !overlap;
              cfg.disable_radix_cache = !radix;
              cfg.chunked_prefill_size = chunk;
              cfg.page_size = page;
              cfg.enable_mixed_chunk = mixed;
              cfg.schedule_policy = policy;
              const std::string what = fmt::format("overlap={} radix={} chunk={} page={} mixed={} policy={}",
                                                   overlap, radix, chunk, page, mixed, policy);
              run_and_compare(cfg, work, what);
              if (::testing::Test::HasFailure()) return;
            }
}

TEST(Scheduler, OtherPoliciesMatchSoloOutputs) {
  const auto work = testing::mixed_workload(48, 11);
  for (const char* policy : {"random", "dfs-weight"}) {
    SchedulerConfig cfg;
    cfg.max_total_tokens = 8192;
    cfg.schedule_policy = policy;
    run_and_compare(cfg, work, policy);
  }
}

TEST(Scheduler, PressureRetractsAndCompletesEveryRequest) {
  for (bool overlap : {true, false}) {
    FakeRunner runner(kEos);
    SchedulerConfig cfg;
    cfg.max_total_tokens = 512;
    cfg.disable_overlap_schedule = !overlap;
    auto s = make_scheduler(runner, cfg);
    ASSERT_TRUE(s);
    Collector c;
    std::vector<std::vector<int32_t>> prompts;
    for (int i = 0; i < 32; ++i) {
      std::vector<int32_t> p;
      for (int j = 0; j < 100; ++j) p.push_back(10 + (i * 131 + j * 17) % 990);
      auto r = make_request("p" + std::to_string(i), p, 200);
      r.stop.ignore_eos = true;
      prompts.push_back(p);
      ASSERT_TRUE(c.submit(*s, std::move(r)));
    }
    c.wait_all();
    for (int i = 0; i < 32; ++i) {
      const auto& o = c.results["p" + std::to_string(i)].at(0);
      ASSERT_TRUE(o.finish.has_value());
      EXPECT_EQ(o.finish->type, FinishReason::Type::kLength);
      EXPECT_EQ(o.tokens, fake_reference(prompts[i], 200, {0.0f}, {})) << "request " << i;
    }
    EXPECT_GT(s->stats().num_retractions, 0);
    expect_no_leaks(*s);
  }
}

// A KV pool smaller than the context (SGLang's max_req_len = min(context − 1, pool − 1)): a
// request asking for the rest of the context is admitted and clipped to what the pool can back,
// not refused; a prompt that leaves no room (over max_req_input_len = max_req_len − 5) is refused
// with SGLang's message.
TEST(Scheduler, PoolSmallerThanContextClipsMaxNewTokens) {
  FakeRunner runner(kEos, 4096);
  SchedulerConfig cfg;
  cfg.max_total_tokens = 256;
  cfg.page_size = 16;
  auto s = make_scheduler(runner, cfg);
  ASSERT_TRUE(s);
  ASSERT_EQ(s->limits().max_total_num_tokens, 256);
  std::vector<int32_t> prompt;
  for (int j = 0; j < 50; ++j) prompt.push_back(10 + j * 7 % 990);
  Collector c;
  auto r = make_request("whole-context", prompt, 4096 - 50);  // what a request without max_tokens asks
  r.stop.ignore_eos = true;
  ASSERT_TRUE(c.submit(*s, std::move(r)));
  c.wait_all();
  const auto& o = c.results["whole-context"].at(0);
  ASSERT_TRUE(o.finish.has_value());
  EXPECT_EQ(o.finish->type, FinishReason::Type::kLength);
  const int64_t clipped = 255 - 50 - 1;  // max_req_len − prompt − 1
  EXPECT_EQ(o.completion_tokens, clipped);
  EXPECT_EQ(o.tokens, fake_reference(prompt, clipped, {0.0f}, {}));
  std::vector<int32_t> too_long(251, 11);  // max_req_input_len = 255 − 5 = 250
  auto refused = s->submit(make_request("too-long", too_long, 1), [] {});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find(
                "Input length (251 tokens) exceeds the maximum allowed length (250 tokens)"),
            std::string::npos)
      << refused.error().message;
  expect_no_leaks(*s);
}

TEST(Scheduler, RepeatedPromptReportsCachedTokens) {
  for (int page : {1, 16}) {
    FakeRunner runner(kEos);
    SchedulerConfig cfg;
    cfg.max_total_tokens = 4096;
    cfg.page_size = page;
    auto s = make_scheduler(runner, cfg);
    std::vector<int32_t> prompt;
    for (int j = 0; j < 77; ++j) prompt.push_back(10 + j * 7 % 990);
    Collector first;
    ASSERT_TRUE(first.submit(*s, make_request("a", prompt, 5)));
    first.wait_all();
    EXPECT_EQ(first.results["a"][0].cached_tokens, 0);
    Collector second;
    ASSERT_TRUE(second.submit(*s, make_request("b", prompt, 5)));
    second.wait_all();
    EXPECT_GE(second.results["b"][0].cached_tokens, (77 - 1) / page * page);
    EXPECT_EQ(second.results["b"][0].tokens, first.results["a"][0].tokens);
    EXPECT_GT(s->stats().cache_hit_rate, 0.0);
  }
}

TEST(Scheduler, EvictionUnderPressureKeepsResultsCorrect) {
  SchedulerConfig cfg;
  cfg.max_total_tokens = 640;
  cfg.page_size = 16;
  // Many distinct prompts through a small pool: earlier prefixes get evicted, later repeats of
  // the first prompts must still be correct.
  auto work = testing::mixed_workload(40, 5, 120, 20);
  auto again = std::vector<testing::Spec>(work.begin(), work.begin() + 10);
  for (auto& w : again) w.rid += "-again";
  work.insert(work.end(), again.begin(), again.end());
  run_and_compare(cfg, work, "eviction");
}

TEST(Scheduler, RandomAbortsLeaveNoLeakAndDoNotDisturbOthers) {
  for (bool overlap : {true, false}) {
    FakeRunner runner(kEos);
    SchedulerConfig cfg;
    cfg.max_total_tokens = 2048;
    cfg.chunked_prefill_size = 64;
    cfg.disable_overlap_schedule = !overlap;
    auto s = make_scheduler(runner, cfg);
    ASSERT_TRUE(s);
    const auto work = testing::mixed_workload(200, 3, 120, 60);
    Collector c;
    std::mt19937 rng(9);
    std::vector<std::string> to_abort;
    for (auto& w : work) {
      ASSERT_TRUE(c.submit(*s, make_request(w.rid, w.prompt, w.max_new)));
      if (rng() % 4 == 0) to_abort.push_back(w.rid);
      if (rng() % 8 == 0)
        s->abort(work[rng() % work.size()].rid);  // may hit waiting, running or unknown rids
    }
    size_t next = 0;
    c.wait_all([&] {
      for (int k = 0; k < 3 && next < to_abort.size(); ++k) s->abort(to_abort[next++]);
    });
    int aborted = 0;
    for (auto& w : work) {
      const auto& o = c.results[w.rid].at(0);
      ASSERT_TRUE(o.finish.has_value()) << w.rid;
      auto ref = fake_reference(w.prompt, w.max_new, {0.0f}, kEos);
      if (o.finish->type == FinishReason::Type::kAbort) {
        ++aborted;
        // What was streamed before the abort is still a prefix of the solo output.
        ASSERT_LE(o.tokens.size(), ref.size());
        EXPECT_TRUE(std::equal(o.tokens.begin(), o.tokens.end(), ref.begin())) << w.rid;
      } else {
        EXPECT_EQ(o.tokens, ref) << w.rid;
      }
    }
    EXPECT_GT(aborted, 0);
    EXPECT_EQ(s->stats().num_aborted_reqs, aborted);
    expect_no_leaks(*s);
  }
}

}  // namespace
}  // namespace sgl::sched
