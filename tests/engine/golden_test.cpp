// Every golden case of the tiny models against their float32 references: HF transformers for
// Qwen3, Qwen3-MoE, Qwen2 and Llama; ../shared/reference/ref_models.py (the HF forward ported to
// plain PyTorch) for Qwen v1, Qwen2-MoE, Gemma 2, Grok-2 and Bailing MoE.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine_test_util.h"

namespace sgl::engine {
namespace {

using testing::add_chunk;
using testing::Request;
using testing::SlotPool;

struct Tolerance {
  double logit, logprob;
};

void run_golden(const std::string& model, const std::string& dtype, Tolerance tol, bool check_greedy) {
  std::string dir = testing::model_dir(model);
  if (dir.empty()) GTEST_SKIP() << "../shared not found: golden models are not available here";
  std::ifstream f(sgl::find_shared_dir(SGL_SOURCE_DIR) + "/golden/" + model + ".golden.json");
  ASSERT_TRUE(f.good());
  auto golden = nlohmann::json::parse(f);
  auto runner = testing::make_runner(dir, dtype);
  ASSERT_NE(runner, nullptr) << "cannot load " << dir;
  const int64_t vocab = runner->info().vocab_size;
  for (const auto& c : golden["cases"]) {
    const auto ids = c["input_ids"].get<std::vector<int32_t>>();
    const auto positions = c["positions"].get<std::vector<int64_t>>();
    SCOPED_TRACE(model + " case '" + c["text"].get<std::string>().substr(0, 40) + "'");
    SlotPool pool(runner->kv_num_slots(), 16);
    Request req;
    auto logits = testing::logits_at_positions(*runner, pool, req, ids, positions);
    ASSERT_TRUE(logits.ok()) << logits.error().message;
    const std::vector<std::vector<float>>& rows = *logits;
    ASSERT_EQ(positions.back() + 1, static_cast<int64_t>(ids.size())) << "the last position ends the prompt";
    for (size_t i = 0; i < positions.size(); ++i) {
      const auto& row = rows[i];
      double mx = *std::max_element(row.begin(), row.end()), s = 0;
      for (float v : row) s += std::exp(static_cast<double>(v) - mx);
      const double lse = mx + std::log(s);
      const double ref_lse = c["logsumexp"][i].get<double>();
      EXPECT_NEAR(lse, ref_lse, tol.logit) << "position " << positions[i];
      for (size_t k = 0; k < c["top_ids"][i].size(); ++k) {
        const int32_t id = c["top_ids"][i][k].get<int32_t>();
        const double ref = c["top_logits"][i][k].get<double>();
        ASSERT_LT(id, vocab);
        EXPECT_NEAR(row[id], ref, tol.logit) << "position " << positions[i] << " token " << id;
        EXPECT_NEAR(row[id] - lse, ref - ref_lse, tol.logprob) << "logprob at position " << positions[i];
      }
    }
    if (!check_greedy) continue;
    // Greedy continuation, identical up to the first step whose reference margin is too thin.
    const auto greedy = c["greedy_ids"].get<std::vector<int32_t>>();
    const auto margin = c["greedy_margin"].get<std::vector<double>>();
    const auto& last = rows.back();
    int32_t tok = static_cast<int32_t>(std::max_element(last.begin(), last.end()) - last.begin());
    for (size_t step = 0; step < greedy.size(); ++step) {
      if (margin[step] < 0.05) break;
      ASSERT_EQ(tok, greedy[step]) << "greedy step " << step;
      StepInput in;
      add_chunk(in, req, {tok}, pool, false);
      in.sampling[0].params = nullptr;  // greedy
      auto out = runner->step(in);
      ASSERT_TRUE(out.ok()) << out.error().message;
      tok = out->rows[0].token;
    }
  }
}

TEST(Golden, TinyQwen3Float32) { run_golden("tiny-qwen3", "float32", {0.01, 0.005}, true); }
TEST(Golden, TinyQwen3MoeFloat32) { run_golden("tiny-qwen3-moe", "float32", {0.01, 0.005}, true); }
TEST(Golden, TinyQwen2Float32) { run_golden("tiny-qwen2", "float32", {0.01, 0.005}, true); }
TEST(Golden, TinyLlamaFloat32) { run_golden("tiny-llama", "float32", {0.01, 0.005}, true); }
// bf16 weights (fp32 activations): the bf16 tolerance; greedy paths may diverge legitimately.
TEST(Golden, TinyQwen3Bfloat16) { run_golden("tiny-qwen3", "bfloat16", {0.25, 0.25}, false); }
TEST(Golden, TinyQwen3MoeBfloat16) { run_golden("tiny-qwen3-moe", "bfloat16", {0.25, 0.25}, false); }
TEST(Golden, TinyQwen2Bfloat16) { run_golden("tiny-qwen2", "bfloat16", {0.25, 0.25}, false); }
TEST(Golden, TinyLlamaBfloat16) { run_golden("tiny-llama", "bfloat16", {0.25, 0.25}, false); }
// The seeds' other families.
TEST(Golden, TinyQwenFloat32) { run_golden("tiny-qwen", "float32", {0.01, 0.005}, true); }
TEST(Golden, TinyQwen2MoeFloat32) { run_golden("tiny-qwen2-moe", "float32", {0.01, 0.005}, true); }
TEST(Golden, TinyGemma2Float32) { run_golden("tiny-gemma2", "float32", {0.01, 0.005}, true); }
TEST(Golden, TinyGrok2Float32) { run_golden("tiny-grok2", "float32", {0.01, 0.005}, true); }
TEST(Golden, TinyBailingMoeFloat32) { run_golden("tiny-bailing-moe", "float32", {0.01, 0.005}, true); }
TEST(Golden, TinyQwenBfloat16) { run_golden("tiny-qwen", "bfloat16", {0.25, 0.25}, false); }
TEST(Golden, TinyQwen2MoeBfloat16) { run_golden("tiny-qwen2-moe", "bfloat16", {0.25, 0.25}, false); }
TEST(Golden, TinyGemma2Bfloat16) { run_golden("tiny-gemma2", "bfloat16", {0.25, 0.25}, false); }
TEST(Golden, TinyGrok2Bfloat16) { run_golden("tiny-grok2", "bfloat16", {0.25, 0.25}, false); }
TEST(Golden, TinyBailingMoeBfloat16) { run_golden("tiny-bailing-moe", "bfloat16", {0.25, 0.25}, false); }

}  // namespace
}  // namespace sgl::engine
