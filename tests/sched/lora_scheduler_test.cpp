// Multi-LoRA through the scheduler on tiny-qwen3: a batch spread over four adapters and the base
// gives each request the output it gets alone, also when only two adapters fit a batch (the
// scheduler serialises them and evicts slots); prefix caching stays within an adapter.
#include <gtest/gtest.h>

#include <future>

#include "../engine/lora_test_util.h"
#include "base/shared_dir.h"
#include "engine/engine_config.h"
#include "harness.h"
#include "sched/scheduler.h"

namespace sgl::sched {
namespace {

using engine::testing::lora_path;

std::vector<int32_t> prompt_of(int n, int salt) {
  std::vector<int32_t> p;
  for (int i = 0; i < n; ++i) p.push_back(100 + (i < 16 ? i * 13 : (i * 37 + salt * 101)) % 150000);
  return p;
}

struct Adapters {
  std::vector<std::shared_ptr<const engine::LoraAdapter>> list;  // a, b, rs, c
};

Adapters load_adapters(const engine::ModelConfig& base) {
  Adapters out;
  for (const char* name : {"a", "b", "rs", "c"}) {
    auto a = engine::load_peft_adapter(lora_path(name), base, {}, name, engine::next_lora_uid());
    EXPECT_TRUE(a.ok()) << (a.ok() ? "" : a.error().message);
    if (a.ok()) out.list.push_back(std::move(*a));
  }
  return out;
}

SchedulerConfig lora_config(int slots) {
  SchedulerConfig cfg;
  cfg.max_total_tokens = 4096;
  cfg.page_size = 16;
  cfg.chunked_prefill_size = 48;
  cfg.enable_mixed_chunk = true;
  cfg.max_loras_per_batch = slots;
  return cfg;
}

// 32 requests: request i uses adapter i % 5 (4 = the base model).
std::vector<GenerateRequest> workload(const Adapters& ad) {
  std::vector<GenerateRequest> reqs;
  for (int i = 0; i < 32; ++i) {
    auto r = testing::make_request("r" + std::to_string(i), prompt_of(18 + (i * 5) % 23, i % 7), 8);
    r.stop.ignore_eos = true;
    if (i % 5 < 4) r.lora = ad.list[static_cast<size_t>(i % 5)];
    reqs.push_back(std::move(r));
  }
  return reqs;
}

#define REQUIRE_ASSETS() \
  if (auto why = engine::testing::make_lora_adapters({"a", "b", "rs", "c"}); !why.empty()) GTEST_SKIP() << why

TEST(SchedulerLora, MixedAdapterBatchEqualsEachRequestAlone) {
  REQUIRE_ASSETS();
  auto solo_runner = testing::tiny_qwen3_runner();
  ASSERT_TRUE(solo_runner);
  const Adapters ad = load_adapters(*solo_runner->info().config);
  ASSERT_EQ(ad.list.size(), 4u);
  SchedulerConfig solo_cfg = lora_config(1);
  solo_cfg.disable_overlap_schedule = true;
  solo_cfg.disable_radix_cache = true;
  solo_cfg.enable_mixed_chunk = false;
  auto solo = Scheduler::create(*solo_runner, solo_cfg);
  ASSERT_TRUE(solo.ok()) << solo.error().message;
  const auto reqs = workload(ad);
  std::map<std::string, std::vector<int32_t>> want;
  for (const auto& r : reqs) {
    testing::Collector one;
    ASSERT_TRUE(one.submit(**solo, r));
    one.wait_all();
    want[r.rid] = one.results[r.rid][0].tokens;
    ASSERT_EQ(want[r.rid].size(), 8u);
  }
  // The adapters change outputs (else equality below would prove nothing).
  int differ = 0;
  for (int i = 0; i < 4; ++i) {
    auto base = testing::make_request("base", reqs[static_cast<size_t>(i)].input_ids, 8);
    base.stop.ignore_eos = true;
    testing::Collector one;
    ASSERT_TRUE(one.submit(**solo, base));
    one.wait_all();
    differ += one.results["base"][0].tokens != want[reqs[static_cast<size_t>(i)].rid];
  }
  EXPECT_GE(differ, 3) << "adapters barely change tiny-qwen3's output";

  // 8 slots; 2 slots (adapters serialised, slots evicted); 5 slots over a KV pool small enough that
  // decoding retracts requests, which give their slot back and take one again when readmitted.
  for (auto [slots, pool] : {std::pair{8, 4096}, std::pair{2, 4096}, std::pair{5, 256}}) {
    auto runner = testing::tiny_qwen3_runner();
    ASSERT_TRUE(runner);
    SchedulerConfig cfg = lora_config(slots);
    cfg.max_total_tokens = pool;
    auto batched = Scheduler::create(*runner, cfg);
    ASSERT_TRUE(batched.ok());
    testing::Collector all;
    for (const auto& r : reqs) ASSERT_TRUE(all.submit(**batched, r));
    all.wait_all();
    for (const auto& r : reqs)
      EXPECT_EQ(all.results[r.rid][0].tokens, want[r.rid])
          << "slots " << slots << " " << r.rid << (r.lora ? " adapter " + r.lora->name : " base");
    const auto st = (*batched)->stats();
    EXPECT_EQ(st.lora_slots_total, slots);
    EXPECT_GE(st.lora_slot_loads, 4);
    if (slots == 2) EXPECT_GT(st.lora_evictions, 0) << "four adapters through two slots must evict";
    if (pool < 1000) EXPECT_GT(st.num_retractions, 0) << "the small pool was meant to force retraction";
  }
}

TEST(SchedulerLora, PrefixCacheIsPerAdapterAndDroppedWithIt) {
  REQUIRE_ASSETS();
  auto runner = testing::tiny_qwen3_runner();
  ASSERT_TRUE(runner);
  const Adapters ad = load_adapters(*runner->info().config);
  ASSERT_EQ(ad.list.size(), 4u);
  auto s = Scheduler::create(*runner, lora_config(4));
  ASSERT_TRUE(s.ok());
  const auto prompt = prompt_of(64, 3);
  auto run = [&](const std::string& rid, std::shared_ptr<const engine::LoraAdapter> lora) {
    auto r = testing::make_request(rid, prompt, 4);
    r.stop.ignore_eos = true;
    r.lora = std::move(lora);
    testing::Collector c;
    EXPECT_TRUE(c.submit(**s, r));
    c.wait_all();
    return c.results[rid][0];
  };
  const auto first = run("a1", ad.list[0]);
  EXPECT_EQ(first.cached_tokens, 0);
  EXPECT_GE(run("a2", ad.list[0]).cached_tokens, 48) << "same adapter: the prompt is cached";
  EXPECT_EQ(run("base", nullptr).cached_tokens, 0) << "the base must not see the adapter's KV";
  EXPECT_EQ(run("b", ad.list[1]).cached_tokens, 0) << "another adapter must not see it either";
  // Unloaded and loaded again (a new uid for the same files): nothing cached, slot freed.
  const int64_t used = (*s)->stats().lora_slots_used;
  std::promise<void> dropped;
  (*s)->drop_lora(ad.list[0]->uid, [&] { dropped.set_value(); });
  dropped.get_future().wait();
  auto again =
      engine::load_peft_adapter(lora_path("a"), *runner->info().config, {}, "a", engine::next_lora_uid());
  ASSERT_TRUE(again.ok());
  const auto reloaded = run("a3", std::move(*again));
  EXPECT_EQ(reloaded.cached_tokens, 0);
  EXPECT_EQ(reloaded.tokens, first.tokens);
  EXPECT_EQ((*s)->stats().lora_slots_used, used);  // a's slot went to its reload
}

TEST(SchedulerLora, AdapterRequestsAreRefusedWhenLoraIsOff) {
  REQUIRE_ASSETS();
  auto runner = testing::tiny_qwen3_runner();
  ASSERT_TRUE(runner);
  const Adapters ad = load_adapters(*runner->info().config);
  SchedulerConfig cfg;
  cfg.max_total_tokens = 1024;
  auto s = Scheduler::create(*runner, cfg);
  ASSERT_TRUE(s.ok());
  auto r = testing::make_request("x", prompt_of(8, 1), 4);
  r.lora = ad.list[0];
  auto st = (*s)->submit(r, [] {});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("--enable-lora"), std::string::npos);
}

}  // namespace
}  // namespace sgl::sched
