// EAGLE3 with LoRA: the draft proposes on the base model, the target verifies with each request's
// adapter, so greedy speculative outputs equal the plain scheduler's with the same adapters.
#include <gtest/gtest.h>

#include "../engine/lora_test_util.h"
#include "../sched/harness.h"
#include "sched/scheduler.h"
#include "spec_test_util.h"

namespace sgl::sched::spec {
namespace {

struct Served {
  std::unique_ptr<engine::ModelRunner> runner;
  std::unique_ptr<Scheduler> sched;
};

Served start(bool speculative) {
  Served s;
  const std::string target = testing::shared_dir() + "/models/tiny-qwen3";
  engine::EngineConfig ec;
  ec.model_path = target;
  ec.dtype = "bfloat16";
  auto r = engine::create_model_runner(ec);
  EXPECT_TRUE(r.ok());
  if (!r.ok()) return s;
  s.runner = std::move(r).value();
  SchedulerConfig cfg;
  cfg.page_size = 1;
  cfg.max_total_tokens = 8192;
  cfg.disable_overlap_schedule = true;
  cfg.chunked_prefill_size = 16;
  cfg.max_loras_per_batch = 3;
  if (speculative) {
    auto d = engine::spec::Eagle3Draft::load(testing::shared_dir() + "/models/tiny-qwen3-eagle3", target,
                                             s.runner->info(), engine::DType::kBF16);
    EXPECT_TRUE(d.ok());
    if (!d.ok()) return s;
    cfg.spec_draft = std::move(d).value();
    cfg.spec_num_steps = 3;
    cfg.spec_eagle_topk = 1;
    cfg.spec_num_draft_tokens = 4;
  }
  auto sch = Scheduler::create(*s.runner, cfg);
  EXPECT_TRUE(sch.ok()) << (sch.ok() ? "" : sch.error().message);
  if (sch.ok()) s.sched = std::move(sch).value();
  return s;
}

TEST(SpecLora, GreedyOutputsEqualPlainSchedulerPerAdapter) {
  if (testing::shared_dir().empty()) GTEST_SKIP() << "../shared not found";
  if (auto why = engine::testing::make_lora_adapters({"a", "rs"}); !why.empty()) GTEST_SKIP() << why;
  auto plain = start(false);
  auto spec = start(true);
  ASSERT_TRUE(plain.sched && spec.sched);
  std::vector<std::shared_ptr<const engine::LoraAdapter>> adapters = {nullptr};
  for (const char* name : {"a", "rs"}) {
    auto a = engine::load_peft_adapter(engine::testing::lora_path(name), *plain.runner->info().config, {},
                                       name, engine::next_lora_uid());
    ASSERT_TRUE(a.ok()) << a.error().message;
    adapters.push_back(std::move(*a));
  }
  std::vector<GenerateRequest> reqs;
  const auto cases = testing::reference_cases();
  for (size_t i = 0; i < 9; ++i) {
    GenerateRequest r;
    r.rid = "r" + std::to_string(i);
    r.input_ids = cases[(i / 3) % cases.size()].input_ids;  // each prompt under base, a and rs
    r.sampling.temperature = 0;
    r.stop.max_new_tokens = 24;
    r.stop.ignore_eos = true;
    r.lora = adapters[i % adapters.size()];
    reqs.push_back(r);
  }
  sched::testing::Collector want, got;
  for (const auto& r : reqs) {
    ASSERT_TRUE(want.submit(*plain.sched, r));
    ASSERT_TRUE(got.submit(*spec.sched, r));
  }
  want.wait_all();
  got.wait_all();
  int adapted_differs = 0;
  for (const auto& r : reqs) {
    EXPECT_EQ(got.results[r.rid][0].tokens, want.results[r.rid][0].tokens)
        << r.rid << (r.lora ? " adapter " + r.lora->name : " base");
    EXPECT_EQ(want.results[r.rid][0].tokens.size(), 24u);
  }
  // The adapters matter: the same prompt under the base and under "a" decode differently.
  for (size_t i = 0; i + 1 < reqs.size(); i += 3)
    adapted_differs += want.results[reqs[i].rid][0].tokens != want.results[reqs[i + 1].rid][0].tokens;
  EXPECT_GT(adapted_differs, 0);
  EXPECT_GT(spec.sched->stats().avg_spec_accept_length, 1.0);
}

}  // namespace
}  // namespace sgl::sched::spec
