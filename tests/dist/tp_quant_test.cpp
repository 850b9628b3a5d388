// Quantized checkpoints under tensor parallelism: each rank reads its rows (column-parallel) or
// its groups of inputs (row-parallel) of the quantized tensors; tp 2 equals tp 1. A split that
// would cut a quantization group, and act-order groups split by input, are refused by name.
#include <gtest/gtest.h>

#include <cmath>

#include "../engine/engine_test_util.h"
#include "../engine/lora_test_util.h"

namespace sgl::engine {
namespace {

using testing::add_chunk;
using testing::Request;
using testing::SlotPool;

Result<std::unique_ptr<ModelRunner>> runner_tp(const std::string& dir, int tp) {
  EngineConfig cfg;
  cfg.model_path = dir;
  cfg.dtype = "float32";
  cfg.tp_size = tp;
  cfg.dist_timeout_s = 30;
  SGL_ASSIGN_OR_RETURN(auto r, create_model_runner(cfg));
  SGL_TRY(r->init_kv_cache(2048, 16));
  return r;
}

std::vector<float> prefill_logits(ModelRunner& runner) {
  SlotPool pool(runner.kv_num_slots(), 16);
  Request req;
  StepInput in;
  in.return_logits = true;
  add_chunk(in, req, {785, 6722, 3283, 315, 9625, 374, 12095, 13}, pool, true);
  auto out = runner.step(in);
  EXPECT_TRUE(out.ok()) << out.error().message;
  return out.ok() ? out->logits : std::vector<float>{};
}

void expect_tp2_equals_tp1(const std::string& name) {
  if (testing::model_dir("tiny-qwen3").empty()) GTEST_SKIP() << "../shared/models not found";
  if (auto why = testing::make_lora_adapters({name}); !why.empty()) GTEST_SKIP() << why;
  auto one = runner_tp(testing::lora_path(name), 1);
  ASSERT_TRUE(one.ok()) << one.error().message;
  auto two = runner_tp(testing::lora_path(name), 2);
  ASSERT_TRUE(two.ok()) << two.error().message;
  const auto want = prefill_logits(**one), got = prefill_logits(**two);
  ASSERT_EQ(want.size(), got.size());
  float scale = 1.0f, diff = 0.0f;
  for (size_t i = 0; i < want.size(); ++i) {
    scale = std::max(scale, std::fabs(want[i]));
    diff = std::max(diff, std::fabs(want[i] - got[i]));
  }
  EXPECT_LT(diff, 1e-4f * scale) << name;
}

TEST(TpQuant, Fp8Tp2EqualsTp1) { expect_tp2_equals_tp1("q3-fp8"); }
TEST(TpQuant, AwqTp2EqualsTp1) { expect_tp2_equals_tp1("q3-awq"); }

TEST(TpQuant, SplitsThatCutGroupsAreRefused) {
  if (testing::model_dir("tiny-qwen3").empty()) GTEST_SKIP() << "../shared/models not found";
  if (auto why = testing::make_lora_adapters({"q3-awq", "q3-gptq-act"}); !why.empty()) GTEST_SKIP() << why;
  // tp 4: o_proj's 256 inputs give each rank 64, half a group of 128.
  auto four = runner_tp(testing::lora_path("q3-awq"), 4);
  ASSERT_FALSE(four.ok());
  EXPECT_NE(four.error().message.find("split a quantization group"), std::string::npos)
      << four.error().message;
  auto act = runner_tp(testing::lora_path("q3-gptq-act"), 2);
  ASSERT_FALSE(act.ok());
  EXPECT_NE(act.error().message.find("act-order"), std::string::npos) << act.error().message;
}

}  // namespace
}  // namespace sgl::engine
