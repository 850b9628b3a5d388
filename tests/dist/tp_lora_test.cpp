// LoRA under tensor parallelism: B sliced with the column-parallel projections' outputs, A with
// the row-parallel ones' inputs, the adapters shipped to follower ranks with the step. A batch of
// two adapters and the base on tp 2 and tp 4 (KV heads replicated) equals tp 1.
#include <gtest/gtest.h>

#include <cmath>

#include "../engine/engine_test_util.h"
#include "../engine/lora_test_util.h"

namespace sgl::engine {
namespace {

using testing::add_chunk;
using testing::Request;
using testing::SlotPool;

std::unique_ptr<ModelRunner> runner_tp(int tp) {
  EngineConfig cfg;
  cfg.model_path = testing::model_dir("tiny-qwen3");
  cfg.dtype = "float32";
  cfg.tp_size = tp;
  cfg.dist_timeout_s = 30;
  auto r = create_model_runner(cfg);
  EXPECT_TRUE(r.ok()) << r.error().message;
  if (!r.ok()) return nullptr;
  EXPECT_TRUE((*r)->init_kv_cache(2048, 16).ok());
  LoraPoolConfig lc;
  lc.num_slots = 2;
  EXPECT_TRUE((*r)->init_lora(lc).ok());
  return std::move(*r);
}

// Four greedy steps of three requests (slots 0, base, 1) in one batch: every step's logits.
std::vector<std::vector<float>> run(ModelRunner& runner, const std::vector<LoraSlotLoad>& loads) {
  SlotPool pool(runner.kv_num_slots(), 16);
  const std::vector<int32_t> slots = {0, -1, 1};
  std::vector<Request> reqs(slots.size());
  std::vector<std::vector<int32_t>> next = {
      {785, 6722, 3283, 315, 9625}, {9707, 11, 1879, 0}, {3838, 374, 220, 17, 10, 17, 30}};
  std::vector<std::vector<float>> steps;
  for (int s = 0; s < 4; ++s) {
    StepInput in;
    in.return_logits = true;
    if (s == 0) in.lora_loads = loads;
    for (size_t i = 0; i < slots.size(); ++i) {
      add_chunk(in, reqs[i], next[i], pool, false);
      in.batch.segments.back().lora_slot = slots[i];
    }
    auto out = runner.step(in);
    EXPECT_TRUE(out.ok()) << out.error().message;
    if (!out.ok()) return steps;
    steps.push_back(out->logits);
    for (size_t i = 0; i < slots.size(); ++i) next[i] = {out->rows[i].token};
  }
  return steps;
}

void expect_tp_equals_tp1(int tp) {
  if (testing::model_dir("tiny-qwen3").empty()) GTEST_SKIP() << "../shared/models not found";
  if (auto why = testing::make_lora_adapters({"a", "rs"}); !why.empty()) GTEST_SKIP() << why;
  auto one = runner_tp(1);
  ASSERT_TRUE(one);
  std::vector<LoraSlotLoad> loads;
  for (auto [slot, name] : {std::pair{0, "a"}, std::pair{1, "rs"}}) {
    auto a = load_peft_adapter(testing::lora_path(name), *one->info().config, {}, name, next_lora_uid());
    ASSERT_TRUE(a.ok()) << a.error().message;
    loads.push_back({slot, std::move(*a)});
  }
  const auto want = run(*one, loads);
  auto sharded = runner_tp(tp);
  ASSERT_TRUE(sharded);
  const auto got = run(*sharded, loads);
  ASSERT_EQ(got.size(), want.size());
  const size_t v = static_cast<size_t>(one->info().vocab_size);
  for (size_t s = 0; s < want.size(); ++s) {
    for (size_t row = 0; row < 3; ++row) {
      float scale = 1.0f, diff = 0.0f;
      size_t best_w = 0, best_g = 0;
      for (size_t i = 0; i < v; ++i) {
        const float w = want[s][row * v + i], g = got[s][row * v + i];
        scale = std::max(scale, std::fabs(w));
        diff = std::max(diff, std::fabs(w - g));
        if (w > want[s][row * v + best_w]) best_w = i;
        if (g > got[s][row * v + best_g]) best_g = i;
      }
      EXPECT_LT(diff, 1e-4f * scale) << "tp " << tp << " step " << s << " row " << row;
      EXPECT_EQ(best_g, best_w) << "tp " << tp << " step " << s << " row " << row;
    }
  }
}

TEST(TpLora, Tp2EqualsTp1) { expect_tp_equals_tp1(2); }
TEST(TpLora, Tp4EqualsTp1) { expect_tp_equals_tp1(4); }

}  // namespace
}  // namespace sgl::engine
