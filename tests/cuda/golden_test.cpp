// The tiny models on the GPU against HF transformers' fp32 reference (../shared/golden), within the
// bf16 tolerance the CPU backend's bf16 golden tests use; greedy continuation while the margin is wide.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "../engine/engine_test_util.h"
#include "cuda_test_util.h"

namespace sgl::engine::cuda {
namespace {

using engine::testing::add_chunk;
using engine::testing::Request;
using engine::testing::SlotPool;

void run_golden(const std::string& model, double tol, double greedy_margin) {
  SGL_SKIP_WITHOUT_GPU();
  const std::string dir = testing::first_model({model.c_str()});
  if (dir.empty())
    GTEST_SKIP() << model << " not found under ../shared (or SGL_SHARED_DIR): not available here";
  std::ifstream f(sgl::find_shared_dir(SGL_SOURCE_DIR) + "/golden/" + model + ".golden.json");
  if (!f.good()) GTEST_SKIP() << "no golden file for " << model << " under SGL_SHARED_DIR";
  auto golden = nlohmann::json::parse(f);
  auto runner = testing::make_cuda_runner(dir);
  ASSERT_NE(runner, nullptr) << "cannot load " << dir;
  const int64_t vocab = runner->info().vocab_size;
  int greedy_checked = 0;
  for (const auto& c : golden["cases"]) {
    const auto ids = c["input_ids"].get<std::vector<int32_t>>();
    const auto positions = c["positions"].get<std::vector<int64_t>>();
    SCOPED_TRACE(model + " case '" + c["text"].get<std::string>().substr(0, 40) + "'");
    SlotPool pool(runner->kv_num_slots(), 16);
    Request req;
    auto logits = engine::testing::logits_at_positions(*runner, pool, req, ids, positions);
    ASSERT_TRUE(logits.ok()) << logits.error().message;
    const std::vector<std::vector<float>>& rows = *logits;
    for (size_t i = 0; i < positions.size(); ++i) {
      const auto& row = rows[i];
      double mx = *std::max_element(row.begin(), row.end()), s = 0;
      for (float v : row) s += std::exp(static_cast<double>(v) - mx);
      const double lse = mx + std::log(s), ref_lse = c["logsumexp"][i].get<double>();
      EXPECT_NEAR(lse, ref_lse, tol) << "position " << positions[i];
      for (size_t k = 0; k < c["top_ids"][i].size(); ++k) {
        const int32_t id = c["top_ids"][i][k].get<int32_t>();
        const double ref = c["top_logits"][i][k].get<double>();
        ASSERT_LT(id, vocab);
        EXPECT_NEAR(row[id], ref, tol) << "position " << positions[i] << " token " << id;
        EXPECT_NEAR(row[id] - lse, ref - ref_lse, tol) << "logprob at position " << positions[i];
      }
    }
    // Greedy continuation (decided on the GPU), identical while the reference margin is wide.
    const auto greedy = c["greedy_ids"].get<std::vector<int32_t>>();
    const auto margin = c["greedy_margin"].get<std::vector<double>>();
    const auto& last = rows.back();
    auto tok = static_cast<int32_t>(std::max_element(last.begin(), last.end()) - last.begin());
    for (size_t step = 0; step < greedy.size(); ++step) {
      if (margin[step] < greedy_margin) break;
      ASSERT_EQ(tok, greedy[step]) << "greedy step " << step;
      ++greedy_checked;
      StepInput in;
      add_chunk(in, req, {tok}, pool, false);
      auto out = runner->step(in);
      ASSERT_TRUE(out.ok()) << out.error().message;
      tok = out->rows[0].token;
    }
  }
  ::testing::Test::RecordProperty("greedy_steps_checked", greedy_checked);
}

// bf16 weights, KV and GEMM inputs: the bf16 tolerance (as tests/engine's bf16 goldens);
// greedy paths are compared while the reference margin exceeds 0.25 (the rule).
TEST(CudaGolden, TinyQwen3) { run_golden("tiny-qwen3", 0.25, 0.25); }
TEST(CudaGolden, TinyQwen3Moe) { run_golden("tiny-qwen3-moe", 0.25, 0.25); }
TEST(CudaGolden, TinyQwen2) { run_golden("tiny-qwen2", 0.25, 0.25); }
TEST(CudaGolden, TinyLlama) { run_golden("tiny-llama", 0.25, 0.25); }
// The families built from the decoder's extra blocks (goldens from ../reference/ref_models.py): Qwen v1
// (fused qkv, logn), Qwen2-MoE (sigmoid-gated shared expert), Gemma 2 (sandwich norms, GeGLU,
// soft-caps, sliding window 16 against 1,500-token prompts, CUDA graphs), Grok-2 (soft-capped router,
// temperature, residual MoE, multipliers), Bailing MoE (ungated shared experts, head_dim 16).
TEST(CudaGolden, TinyQwen) { run_golden("tiny-qwen", 0.25, 0.25); }
TEST(CudaGolden, TinyQwen2Moe) { run_golden("tiny-qwen2-moe", 0.25, 0.25); }
TEST(CudaGolden, TinyGemma2) { run_golden("tiny-gemma2", 0.25, 0.25); }
TEST(CudaGolden, TinyGrok2) { run_golden("tiny-grok2", 0.25, 0.25); }
TEST(CudaGolden, TinyBailingMoe) { run_golden("tiny-bailing-moe", 0.25, 0.25); }

}  // namespace
}  // namespace sgl::engine::cuda
