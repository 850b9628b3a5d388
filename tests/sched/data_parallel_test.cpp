// Data parallelism: the routing policies alone (SGLang-JAX's decisions), the router's prefix index,
// and DataParallelScheduler over replicas of the fake engine — outputs equal a single scheduler's,
// the load goes where the policy says and returns to zero, control commands reach every replica.
#include "sched/data_parallel.h"

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

TEST(DpPolicy, NamesAndDefault) {
  EXPECT_EQ(*parse_dp_policy("None", true), DpPolicy::kCacheAware);
  EXPECT_EQ(*parse_dp_policy("", true), DpPolicy::kCacheAware);
  EXPECT_EQ(*parse_dp_policy("None", false), DpPolicy::kMinRunningQueue);  // no radix cache
  for (auto p :
       {DpPolicy::kRoundRobin, DpPolicy::kMinRunningQueue, DpPolicy::kCacheAware, DpPolicy::kShapeAware})
    EXPECT_EQ(*parse_dp_policy(dp_policy_name(p), true), p);
  auto bad = parse_dp_policy("shortest_queue", true);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("shortest_queue"), std::string::npos);
  EXPECT_NE(bad.error().message.find("min_running_queue"), std::string::npos);
}

TEST(DpPolicy, LeastLoadedByRequestsThenTokensThenIndex) {
  std::vector<DpLoad> l = {{3, 10, 10}, {2, 50, 50}, {2, 10, 10}};
  EXPECT_EQ(pick_least_loaded(l), 2);
  l[2] = {2, 50, 50};
  EXPECT_EQ(pick_least_loaded(l), 1);  // a tie all the way: the lowest index
}

TEST(DpPolicy, CacheAwarePrefersHoldersUnlessSkewed) {
  std::vector<DpLoad> l = {{5, 0, 0}, {9, 0, 0}, {7, 0, 0}};
  // Replicas 1 and 2 hold more than half of a 100-token prompt: the less loaded of them.
  EXPECT_EQ(pick_cache_aware(l, std::vector<int64_t>{0, 80, 60}, 100), 2);
  // Exactly half is not enough: least loaded overall.
  EXPECT_EQ(pick_cache_aware(l, std::vector<int64_t>{0, 50, 50}, 100), 0);
  // Skew beyond 32 requests and 1.1x: balance, whoever holds the prefix.
  l = {{1, 0, 0}, {40, 0, 0}, {30, 0, 0}};
  EXPECT_EQ(pick_cache_aware(l, std::vector<int64_t>{0, 100, 0}, 100), 0);
  // 33 apart but within 1.1x: still cache affinity.
  l = {{400, 0, 0}, {433, 0, 0}};
  EXPECT_EQ(pick_cache_aware(l, std::vector<int64_t>{0, 100}, 100), 1);
}

TEST(DpPolicy, ShapeAwareBalancesTheBottleneckSide) {
  // Replica 0 is prefill-heavy, replica 1 decode-heavy: a long prompt goes to 1, a long output to 0.
  std::vector<DpLoad> l = {{1, 1000, 100}, {1, 100, 1000}};
  EXPECT_EQ(pick_shape_aware(l, 800, 10), 1);
  EXPECT_EQ(pick_shape_aware(l, 10, 800), 0);
}

TEST(DpPrefixIndex, MatchesWholeBlocksOfRecordedPrompts) {
  DpPrefixIndex idx(2, 1 << 16);
  std::vector<int32_t> a(70), b(70);
  for (int i = 0; i < 70; ++i) a[i] = i, b[i] = i < 40 ? i : 1000 + i;
  idx.record(1, a, 0);
  auto m = idx.match(a, 0);
  EXPECT_EQ(m, (std::vector<int64_t>{0, 64}));                // 4 whole blocks of 16
  EXPECT_EQ(idx.match(b, 0), (std::vector<int64_t>{0, 32}));  // diverges inside the third block
  EXPECT_EQ(idx.match(a, 7), (std::vector<int64_t>{0, 0}));   // another adapter's cache
}

TEST(DpPrefixIndex, ForgetsLeastRecentlyRoutedBeyondCapacity) {
  DpPrefixIndex idx(1, 4 * DpPrefixIndex::kBlock);  // 4 blocks
  std::vector<int32_t> a(64, 1), b(64, 2);
  idx.record(0, a, 0);
  idx.record(0, b, 0);  // a's blocks pushed out
  EXPECT_EQ(idx.match(a, 0)[0], 0);
  EXPECT_EQ(idx.match(b, 0)[0], 64);
  // Beyond capacity a prompt keeps its head (deepest blocks forgotten first, as radix leaves).
  std::vector<int32_t> c(96, 3);
  idx.record(0, c, 0);
  EXPECT_EQ(idx.match(c, 0)[0], 64);
}

struct Replicas {
  std::vector<std::unique_ptr<FakeRunner>> runners;
  std::unique_ptr<DataParallelScheduler> dp;
};

Replicas make_dp(int n, DpPolicy policy, int64_t max_total_tokens = 4096) {
  Replicas r;
  std::vector<std::unique_ptr<Scheduler>> scheds;
  auto hist = std::make_shared<SchedulerHistograms>();
  for (int i = 0; i < n; ++i) {
    r.runners.push_back(std::make_unique<FakeRunner>(kEos));
    SchedulerConfig cfg;
    cfg.max_total_tokens = max_total_tokens;
    cfg.histograms = hist;
    auto s = Scheduler::create(*r.runners.back(), cfg);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
    scheds.push_back(std::move(s).value());
  }
  r.dp = std::make_unique<DataParallelScheduler>(std::move(scheds), policy);
  return r;
}

void wait_idle(DataParallelScheduler& dp) {
  for (int i = 0; i < 5000 && !dp.stats().idle; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_TRUE(dp.stats().idle);
}

TEST(DataParallelScheduler, EveryPolicyGivesEachRequestItsSoloOutput) {
  engine::SamplingParams greedy;
  greedy.temperature = 0.0f;
  const auto work = testing::mixed_workload(48, 11);
  for (auto policy :
       {DpPolicy::kRoundRobin, DpPolicy::kMinRunningQueue, DpPolicy::kCacheAware, DpPolicy::kShapeAware}) {
    auto r = make_dp(2, policy);
    Collector c;
    for (const auto& w : work) ASSERT_TRUE(c.submit(*r.dp, make_request(w.rid, w.prompt, w.max_new)));
    c.wait_all();
    for (const auto& w : work) {
      const auto& o = c.results[w.rid].at(0);
      ASSERT_TRUE(o.finish.has_value());
      EXPECT_EQ(o.tokens, fake_reference(w.prompt, w.max_new, greedy, kEos))
          << dp_policy_name(policy) << " " << w.rid;
    }
    const auto routed = r.dp->routed_counts();
    EXPECT_EQ(routed[0] + routed[1], static_cast<int64_t>(work.size()));
    // Every policy but cache affinity spreads a burst; the fake workload's prompts share no long
    // prefixes, so cache_aware balances too.
    EXPECT_GT(routed[0], 0) << dp_policy_name(policy);
    EXPECT_GT(routed[1], 0) << dp_policy_name(policy);
    wait_idle(*r.dp);
    const auto sum = r.dp->stats();
    EXPECT_EQ(sum.num_finished_reqs, static_cast<int64_t>(work.size()));
    const auto each = r.dp->replica_stats();
    EXPECT_EQ(each[0].num_finished_reqs, routed[0]);
    EXPECT_EQ(each[1].num_finished_reqs, routed[1]);
    EXPECT_EQ(sum.num_total_pages, each[0].num_total_pages + each[1].num_total_pages);
    // Streams held: the load stays counted; let go: back to zero.
    EXPECT_GT(r.dp->loads()[0].requests + r.dp->loads()[1].requests, 0);
    c.release_streams();
    for (const auto& l : r.dp->loads()) {
      EXPECT_EQ(l.requests, 0);
      EXPECT_EQ(l.input_tokens, 0);
      EXPECT_EQ(l.output_tokens, 0);
    }
  }
}

TEST(DataParallelScheduler, RoundRobinAlternates) {
  auto r = make_dp(3, DpPolicy::kRoundRobin);
  Collector c;
  for (int i = 0; i < 7; ++i)
    ASSERT_TRUE(c.submit(*r.dp, make_request("r" + std::to_string(i), {5, 6, 7}, 4)));
  c.wait_all();
  EXPECT_EQ(r.dp->routed_counts(), (std::vector<int64_t>{3, 2, 2}));
}

TEST(DataParallelScheduler, MinRunningQueueFillsTheEmptierReplica) {
  auto r = make_dp(2, DpPolicy::kMinRunningQueue);
  Collector c;
  // Held streams keep their load: with one request on replica 0, the next goes to 1, and so on.
  for (int i = 0; i < 6; ++i)
    ASSERT_TRUE(c.submit(*r.dp, make_request("m" + std::to_string(i), {9, 9, 9, 9}, 3)));
  EXPECT_EQ(r.dp->routed_counts(), (std::vector<int64_t>{3, 3}));
  c.wait_all();
}

TEST(DataParallelScheduler, CacheAwareKeepsASharedPrefixOnItsReplica) {
  auto r = make_dp(2, DpPolicy::kCacheAware);
  std::vector<int32_t> system(96);
  for (int i = 0; i < 96; ++i) system[i] = 10 + i;
  Collector c;
  for (int i = 0; i < 8; ++i) {
    auto prompt = system;
    prompt.push_back(500 + i);
    ASSERT_TRUE(c.submit(*r.dp, make_request("c" + std::to_string(i), prompt, 4)));
    if (i == 0) c.wait_all();  // the first one fills its replica's cache
  }
  c.wait_all();
  const auto routed = r.dp->routed_counts();
  // All behind the first one: loads stay within the balance threshold, so affinity wins.
  EXPECT_TRUE((routed == std::vector<int64_t>{8, 0}) || (routed == std::vector<int64_t>{0, 8}))
      << routed[0] << " / " << routed[1];
  wait_idle(*r.dp);
  const auto each = r.dp->replica_stats();
  EXPECT_GT(each[0].num_cached_tokens + each[1].num_cached_tokens, 7 * 90);  // the prefix was reused
}

TEST(DataParallelScheduler, ControlCommandsReachEveryReplica) {
  auto r = make_dp(2, DpPolicy::kRoundRobin);
  Collector c;
  // Long requests on both replicas; aborting by rid finds each wherever it runs.
  for (const char* rid : {"long0", "long1"}) {
    auto req = make_request(rid, {1, 2, 3}, 4000);
    req.stop.ignore_eos = true;
    ASSERT_TRUE(c.submit(*r.dp, std::move(req)));
  }
  EXPECT_EQ(r.dp->routed_counts(), (std::vector<int64_t>{1, 1}));
  r.dp->abort("long0");
  r.dp->abort("long1");
  c.wait_all();
  for (const char* rid : {"long0", "long1"}) {
    ASSERT_TRUE(c.results[rid].at(0).finish.has_value());
    EXPECT_EQ(c.results[rid].at(0).finish->type, FinishReason::Type::kAbort) << rid;
  }
  wait_idle(*r.dp);
  std::atomic<int> flushed{-1};
  r.dp->flush_cache([&](bool ok) { flushed = ok ? 1 : 0; });
  for (int i = 0; i < 5000 && flushed < 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(flushed, 1);
  for (const auto& s : r.dp->replica_stats()) EXPECT_EQ(s.num_free_pages, s.num_total_pages);
  // run_exclusive runs the task once per replica and reports the first failure.
  std::atomic<int> ran{0};
  std::atomic<int> result{-1};
  r.dp->run_exclusive(
      [&](int i) {
        ++ran;
        return i == 1 ? Status(invalid_argument("replica 1 refused")) : ok_status();
      },
      [&](Status s) { result = s.ok() ? 1 : 0; });
  for (int i = 0; i < 5000 && result < 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(ran, 2);
  EXPECT_EQ(result, 0);
}

}  // namespace
}  // namespace sgl::sched
