// Tensor (and expert) parallel runs of the tiny models against their float32
// golden references: the same prompt logits within the golden tolerance and the same greedy tokens
// wherever the reference margin exceeds 0.01 — what tp 1 is held to (tests/engine/golden_test.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "../engine/engine_test_util.h"
#include "engine/dist/tp_runner.h"

namespace sgl::engine {
namespace {

using testing::add_chunk;
using testing::Request;
using testing::SlotPool;

void run_tp_golden(const std::string& model, int tp, int ep) {
  const std::string dir = testing::model_dir(model);
  if (dir.empty()) GTEST_SKIP() << "../shared not found: golden models are not available here";
  std::ifstream f(sgl::find_shared_dir(SGL_SOURCE_DIR) + "/golden/" + model + ".golden.json");
  ASSERT_TRUE(f.good());
  const auto golden = nlohmann::json::parse(f);
  EngineConfig cfg;
  cfg.model_path = dir;
  cfg.dtype = "float32";
  cfg.tp_size = tp;
  cfg.ep_size = ep;
  cfg.dist_timeout_s = 30;
  auto created = create_model_runner(cfg);
  ASSERT_TRUE(created.ok()) << created.error().message;
  auto& runner = **created;
  ASSERT_TRUE(runner.init_kv_cache(4096, 16).ok());
  const std::string what = model + " tp " + std::to_string(tp) + " ep " + std::to_string(ep);
  // Collectives cost a few context switches each on a busy CI box, so steps are kept few: a short
  // prompt is one step with logits for every position, and the greedy continuations of all cases
  // decode together as one batch (the engine's rows do not depend on their batch).
  SlotPool pool(runner.kv_num_slots(), 16);
  struct Case {
    Request req;
    std::vector<int32_t> greedy;
    std::vector<double> margin;
    int32_t tok = -1;
    bool active = true;
  };
  std::vector<Case> cases;
  for (const auto& c : golden["cases"]) {
    const auto ids = c["input_ids"].get<std::vector<int32_t>>();
    const auto positions = c["positions"].get<std::vector<int64_t>>();
    SCOPED_TRACE(what + " case '" + c["text"].get<std::string>().substr(0, 40) + "'");
    Case cs;
    const bool every_position = positions.size() == ids.size();
    std::vector<float> last;
    int64_t start = 0;
    for (size_t i = 0; i < positions.size(); ++i) {
      const int64_t p = positions[i];
      if (every_position && i > 0) {
        // Rows of the one prefill step.
      } else {
        StepInput in;
        in.return_logits = true;
        const int64_t end = every_position ? static_cast<int64_t>(ids.size()) : p + 1;
        add_chunk(in, cs.req, std::vector<int32_t>(ids.begin() + start, ids.begin() + end), pool,
                  every_position);
        auto out = runner.step(in);
        ASSERT_TRUE(out.ok()) << out.error().message;
        last = std::move(out->logits);
        start = end;
      }
      const int64_t v = runner.info().vocab_size;
      const float* row = every_position ? last.data() + i * v : last.data();
      for (size_t k = 0; k < c["top_ids"][i].size(); ++k) {
        const int32_t id = c["top_ids"][i][k].get<int32_t>();
        EXPECT_NEAR(row[id], c["top_logits"][i][k].get<double>(), 0.01)
            << "vs HF transformers: position " << p << " token " << id;
      }
      if (i + 1 == positions.size()) cs.tok = static_cast<int32_t>(std::max_element(row, row + v) - row);
    }
    cs.greedy = c["greedy_ids"].get<std::vector<int32_t>>();
    cs.margin = c["greedy_margin"].get<std::vector<double>>();
    cases.push_back(std::move(cs));
  }
  for (size_t step = 0; step < cases[0].greedy.size(); ++step) {
    StepInput in;
    std::vector<Case*> batch;
    for (size_t i = 0; i < cases.size(); ++i) {
      Case& cs = cases[i];
      if (!cs.active || step >= cs.greedy.size() || cs.margin[step] <= 0.01) {
        cs.active = false;
        continue;
      }
      ASSERT_EQ(cs.tok, cs.greedy[step])
          << what << " case " << i << " greedy step " << step << " differs from HF transformers";
      add_chunk(in, cs.req, {cs.tok}, pool, false);
      batch.push_back(&cs);
    }
    if (batch.empty()) break;
    auto out = runner.step(in);
    ASSERT_TRUE(out.ok()) << out.error().message;
    for (size_t i = 0; i < batch.size(); ++i) batch[i]->tok = out->rows[i].token;
  }
  auto stats = dist::tp_collective_stats(runner);
  ASSERT_TRUE(stats.has_value());
  EXPECT_GT(stats->calls, 0) << "a sharded model must have used its collectives";
}

TEST(TpGolden, TinyQwen3Tp2) { run_tp_golden("tiny-qwen3", 2, 1); }
TEST(TpGolden, TinyQwen3Tp4) { run_tp_golden("tiny-qwen3", 4, 1); }
TEST(TpGolden, TinyQwen2Tp2) { run_tp_golden("tiny-qwen2", 2, 1); }
TEST(TpGolden, TinyQwen2Tp4) { run_tp_golden("tiny-qwen2", 4, 1); }  // 2 KV heads: replicated
TEST(TpGolden, TinyLlamaTp2) { run_tp_golden("tiny-llama", 2, 1); }  // 1 KV head: replicated
TEST(TpGolden, TinyLlamaTp4) { run_tp_golden("tiny-llama", 4, 1); }
TEST(TpGolden, TinyQwen3MoeTp2) { run_tp_golden("tiny-qwen3-moe", 2, 1); }  // expert tensor parallel
TEST(TpGolden, TinyQwen3MoeTp2Ep2) { run_tp_golden("tiny-qwen3-moe", 2, 2); }
TEST(TpGolden, TinyQwen3MoeTp4Ep2) { run_tp_golden("tiny-qwen3-moe", 4, 2); }  // 2 groups × 2-way ETP
TEST(TpGolden, TinyQwen3MoeTp4Ep4) { run_tp_golden("tiny-qwen3-moe", 4, 4); }
// The seeds' other families (float32 references from ../shared/reference/ref_models.py): fused
// q|k|v split per rank, the shared expert's columns split like a dense MLP (its sigmoid gate
// computed whole on every rank), Grok's dense MLP beside sharded experts, Gemma's sandwich norms
// after the all-reduce.
TEST(TpGolden, TinyQwenTp2) { run_tp_golden("tiny-qwen", 2, 1); }
TEST(TpGolden, TinyGemma2Tp2) { run_tp_golden("tiny-gemma2", 2, 1); }
TEST(TpGolden, TinyQwen2MoeTp2) { run_tp_golden("tiny-qwen2-moe", 2, 1); }
TEST(TpGolden, TinyQwen2MoeTp2Ep2) { run_tp_golden("tiny-qwen2-moe", 2, 2); }
TEST(TpGolden, TinyGrok2Tp2) { run_tp_golden("tiny-grok2", 2, 1); }
TEST(TpGolden, TinyGrok2Tp2Ep2) { run_tp_golden("tiny-grok2", 2, 2); }
TEST(TpGolden, TinyBailingMoeTp2) { run_tp_golden("tiny-bailing-moe", 2, 1); }
TEST(TpGolden, TinyBailingMoeTp2Ep2) { run_tp_golden("tiny-bailing-moe", 2, 2); }

// Weight swap across ranks: dummy weights, then the real checkpoint loaded slice by slice on every
// rank through the leader's command, must give the reference's greedy tokens.
TEST(TpWeightSwap, DummyThenRealCheckpointMatchesHfGreedy) {
  const std::string dir = testing::model_dir("tiny-qwen3");
  if (dir.empty()) GTEST_SKIP() << "../shared not found";
  std::ifstream f(sgl::find_shared_dir(SGL_SOURCE_DIR) + "/golden/tiny-qwen3.golden.json");
  const auto c = nlohmann::json::parse(f)["cases"][0];
  EngineConfig cfg;
  cfg.model_path = dir;
  cfg.load_format = "dummy";
  cfg.dtype = "float32";
  cfg.tp_size = 2;
  cfg.dist_timeout_s = 30;
  auto created = create_model_runner(cfg);
  ASSERT_TRUE(created.ok()) << created.error().message;
  auto& runner = **created;
  ASSERT_TRUE(runner.init_kv_cache(1024, 16).ok());
  EXPECT_FALSE(runner.load_weights_from_disk(testing::model_dir("tiny-llama")).ok())
      << "another architecture must be refused on every rank";
  ASSERT_TRUE(runner.load_weights_from_disk(dir).ok());
  SlotPool pool(runner.kv_num_slots(), 16);
  Request req;
  StepInput in;
  add_chunk(in, req, c["input_ids"].get<std::vector<int32_t>>(), pool, false);
  auto out = runner.step(in);
  ASSERT_TRUE(out.ok()) << out.error().message;
  const auto greedy = c["greedy_ids"].get<std::vector<int32_t>>();
  const auto margin = c["greedy_margin"].get<std::vector<double>>();
  int32_t tok = out->rows[0].token;
  for (size_t step = 0; step < 8 && margin[step] > 0.01; ++step) {
    ASSERT_EQ(tok, greedy[step]) << "greedy step " << step << " after the swap differs from HF transformers";
    StepInput d;
    add_chunk(d, req, {tok}, pool, false);
    auto o = runner.step(d);
    ASSERT_TRUE(o.ok()) << o.error().message;
    tok = o->rows[0].token;
  }
}

}  // namespace
}  // namespace sgl::engine
