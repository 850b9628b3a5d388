// The scheduler over the real CPU engine (tiny-qwen3 from ../shared): batched, chunked, cached,
// overlapped greedy outputs equal each request run alone.
#include <gtest/gtest.h>

#include "base/shared_dir.h"
#include "engine/engine_config.h"
#include "harness.h"
#include "sched/scheduler.h"

namespace sgl::sched {
namespace {


std::vector<int32_t> prompt_of(int n, int salt, int vocab) {
  std::vector<int32_t> p;
  for (int i = 0; i < n; ++i) p.push_back(100 + (i < 24 ? i * 13 : (i * 37 + salt * 101)) % (vocab - 200));
  return p;
}

TEST(SchedulerRealModel, TinyQwen3BatchedOutputsEqualSoloOutputs) {
  auto solo_runner = testing::tiny_qwen3_runner();
  if (!solo_runner) GTEST_SKIP() << "../shared/models/tiny-qwen3 not found";
  auto batch_runner = testing::tiny_qwen3_runner();
  ASSERT_TRUE(batch_runner);
  const int vocab = static_cast<int>(solo_runner->info().vocab_size);

  SchedulerConfig solo_cfg;
  solo_cfg.max_total_tokens = 2048;
  solo_cfg.disable_overlap_schedule = true;
  solo_cfg.disable_radix_cache = true;
  solo_cfg.chunked_prefill_size = -1;
  auto solo = Scheduler::create(*solo_runner, solo_cfg);
  ASSERT_TRUE(solo.ok());

  SchedulerConfig cfg;
  cfg.max_total_tokens = 2048;
  cfg.page_size = 16;
  cfg.chunked_prefill_size = 32;
  cfg.enable_mixed_chunk = true;
  auto batched = Scheduler::create(*batch_runner, cfg);
  ASSERT_TRUE(batched.ok());

  testing::Collector all;
  std::vector<GenerateRequest> reqs;
  for (int i = 0; i < 10; ++i) {
    auto r = testing::make_request("q" + std::to_string(i), prompt_of(20 + i * 7, i, vocab), 10);
    r.stop.ignore_eos = true;
    reqs.push_back(r);
    ASSERT_TRUE(all.submit(**batched, r));
  }
  all.wait_all();
  for (auto& r : reqs) {
    testing::Collector one;
    ASSERT_TRUE(one.submit(**solo, r));
    one.wait_all();
    const auto& want = one.results[r.rid][0];
    const auto& got = all.results[r.rid][0];
    ASSERT_TRUE(got.finish && want.finish);
    EXPECT_EQ(want.tokens.size(), 10u);
    EXPECT_EQ(got.tokens, want.tokens) << r.rid << ": batched output differs from the request run alone";
  }
  EXPECT_GT((*batched)->stats().num_cached_tokens, 0) << "the shared 24-token prefix was not reused";
}

}  // namespace
}  // namespace sgl::sched
