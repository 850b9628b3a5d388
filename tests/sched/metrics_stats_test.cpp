// What the scheduler feeds /metrics: queue and per-stage latencies, retraction counters and the
// realtime token counts by mode, against the requests that ran.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "fake_runner.h"
#include "harness.h"
#include "sched/scheduler.h"
#include "workload.h"

namespace sgl::sched {
namespace {
using testing::Collector;
using testing::FakeRunner;
using testing::kEos;
using testing::make_request;

SchedulerStats idle_stats(Scheduler& s) {
  // The last chunk reaches the client just before the scheduler publishes its final numbers.
  for (int i = 0; i < 5000 && !s.stats().idle; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return s.stats();
}

uint64_t count_of(const AtomicHistogram& h) { return h.snapshot().count; }

TEST(SchedulerMetrics, StagesQueueTimeAndTokenModesFollowTheRequests) {
  FakeRunner runner(kEos);
  SchedulerConfig cfg;
  cfg.max_total_tokens = 4096;
  auto made = Scheduler::create(runner, cfg);
  ASSERT_TRUE(made.ok());
  auto& s = *made.value();
  Collector c;
  const int kReqs = 3, kNew = 6;
  int64_t prompt_tokens = 0;
  for (int i = 0; i < kReqs; ++i) {
    // Same first 8 tokens: the later requests find them in the radix cache.
    std::vector<int32_t> p = {11, 12, 13, 14, 15, 16, 17, 18, static_cast<int32_t>(30 + i), 40, 41};
    prompt_tokens += static_cast<int64_t>(p.size());
    auto r = make_request("m" + std::to_string(i), p, kNew);
    r.stop.ignore_eos = true;
    ASSERT_TRUE(c.submit(s, std::move(r)));
    c.wait_all();  // one at a time, so that each admission sees the previous prompt cached
  }
  const auto st = idle_stats(s);
  const auto& h = s.histograms();
  EXPECT_EQ(count_of(h.queue_time), kReqs);
  EXPECT_EQ(count_of(h.stage[static_cast<size_t>(ReqStage::kPrefillWaiting)]), kReqs);
  EXPECT_EQ(count_of(h.stage[static_cast<size_t>(ReqStage::kPrefillForward)]), kReqs);
  EXPECT_EQ(count_of(h.stage[static_cast<size_t>(ReqStage::kDecodeLoop)]), kReqs);
  EXPECT_EQ(count_of(h.stage[static_cast<size_t>(ReqStage::kChunkedPrefill)]), 0u);
  EXPECT_EQ(count_of(h.num_retractions), static_cast<uint64_t>(kReqs));
  EXPECT_EQ(h.num_retractions.snapshot().sum, 0.0);
  // Every prompt token was either computed or served from the cache; outputs past the first of
  // each request came from decode passes.
  EXPECT_EQ(st.num_prefill_compute_tokens + st.num_prefill_cache_tokens, prompt_tokens);
  EXPECT_GT(st.num_prefill_cache_tokens, 0);
  EXPECT_EQ(st.num_prefill_cache_tokens, st.num_cached_tokens);
  EXPECT_EQ(st.num_decode_tokens, int64_t{kReqs} * (kNew - 1));
  EXPECT_GE(st.num_decode_passes, kNew - 1);
  EXPECT_EQ(st.max_total_num_tokens, s.limits().max_total_num_tokens);
  EXPECT_EQ(st.num_retracted_reqs_total, 0);
  EXPECT_EQ(st.decode_sum_seq_lens, 0);  // nothing decoding any more
}

TEST(SchedulerMetrics, ChunkedPromptsObserveChunkStages) {
  FakeRunner runner(kEos);
  SchedulerConfig cfg;
  cfg.max_total_tokens = 4096;
  cfg.chunked_prefill_size = 16;
  auto made = Scheduler::create(runner, cfg);
  ASSERT_TRUE(made.ok());
  Collector c;
  std::vector<int32_t> p;
  for (int j = 0; j < 50; ++j) p.push_back(10 + j);
  auto r = make_request("long", p, 3);
  r.stop.ignore_eos = true;
  ASSERT_TRUE(c.submit(*made.value(), std::move(r)));
  c.wait_all();
  idle_stats(*made.value());
  const auto& h = made.value()->histograms();
  // 50 tokens in chunks of 16: 4 chunks, the 3 after the first each end a chunked_prefill stage.
  EXPECT_EQ(count_of(h.stage[static_cast<size_t>(ReqStage::kChunkedPrefill)]), 3u);
  EXPECT_EQ(count_of(h.stage[static_cast<size_t>(ReqStage::kPrefillForward)]), 1u);
}

TEST(SchedulerMetrics, PoolPressureCountsRetractionsAndTheirTokens) {
  FakeRunner runner(kEos);
  SchedulerConfig cfg;
  cfg.max_total_tokens = 512;
  auto made = Scheduler::create(runner, cfg);
  ASSERT_TRUE(made.ok());
  auto& s = *made.value();
  Collector c;
  for (int i = 0; i < 32; ++i) {
    std::vector<int32_t> p;
    for (int j = 0; j < 100; ++j) p.push_back(10 + (i * 131 + j * 17) % 990);
    auto r = make_request("p" + std::to_string(i), p, 200);
    r.stop.ignore_eos = true;
    ASSERT_TRUE(c.submit(s, std::move(r)));
  }
  c.wait_all();
  const auto st = idle_stats(s);
  ASSERT_GT(st.num_retracted_reqs_total, 0) << "the pool was meant to force retraction";
  // Every retracted request had its 100-token prompt and at least one output token.
  EXPECT_EQ(st.num_retracted_input_tokens, 100 * st.num_retracted_reqs_total);
  EXPECT_GE(st.num_retracted_output_tokens, st.num_retracted_reqs_total);
  const auto r = s.histograms().num_retractions.snapshot();
  EXPECT_EQ(r.count, 32u);
  EXPECT_EQ(r.sum, static_cast<double>(st.num_retracted_reqs_total));  // per-request counts add up
}

}  // namespace
}  // namespace sgl::sched
