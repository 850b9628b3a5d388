// Presets in conf/models describe the published models exactly (parameter counts as on their model
// cards, checked without allocating), the size plan matches what allocate() makes resident, and
// dummy weights keep activations bounded through every layer of a deep stack.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/model_config.h"
#include "engine/models/model_size.h"
#include "engine/models/registry.h"
#include "engine_test_util.h"

namespace sgl::engine {
namespace {

using Json = nlohmann::json;

std::string preset(const std::string& name) {
  return std::string(SGL_SOURCE_DIR) + "/conf/models/" + name + ".json";
}

TEST(Presets, ParameterCountsMatchThePublishedModels) {
  // Exact totals of the HF checkpoints (sum of every tensor's numel).
  const std::map<std::string, int64_t> published = {
      {"qwen3-0.6b", 596049920},    {"qwen3-4b", 4022468096},       {"qwen3-8b", 8190735360},
      {"qwen3-32b", 32762123264},   {"qwen3-30b-a3b", 30532122624}, {"qwen3-coder-480b-a35b", 480154875392},
      {"llama-3.1-8b", 8030261248},
  };
  for (const auto& [name, count] : published) {
    auto cfg = load_model_config(preset(name));
    ASSERT_TRUE(cfg.ok()) << name << ": " << cfg.error().message;
    auto fam = family_options(*cfg);
    ASSERT_TRUE(fam.ok()) << name << ": " << fam.error().message;
    EXPECT_EQ(parameter_count(*cfg, *fam), count) << name;
    // bf16 residency: ~2 bytes per parameter, plus a separate LM-head copy when tied.
    const double planned = static_cast<double>(planned_weight_bytes(*cfg, *fam, DType::kBF16));
    const double tied_copy = cfg->tie_word_embeddings ? double(cfg->vocab_size) * cfg->hidden_size : 0.0;
    EXPECT_NEAR(planned / (2.0 * (static_cast<double>(count) + tied_copy)), 1.0, 0.01) << name;
  }
}

TEST(Presets, PlannedBytesEqualWhatAllocateMakesResident) {
  // Each family at one dtype (allocation dominates the cost; the plan's dtype arithmetic is shared).
  for (const auto& [m, dt] : {std::pair<std::string, DType>{"tiny-qwen3", DType::kF32},
                              {"tiny-qwen3-moe", DType::kBF16},
                              {"tiny-qwen2", DType::kBF16},
                              {"tiny-llama", DType::kF32}}) {
    const std::string dir = testing::model_dir(m);
    if (dir.empty()) GTEST_SKIP() << "../shared not found: tiny models are not available here";
    auto cfg = load_model_config(dir);
    ASSERT_TRUE(cfg.ok()) << cfg.error().message;
    auto fam = family_options(*cfg);
    ASSERT_TRUE(fam.ok());
    DecoderModel model(*cfg, *fam, dt);
    model.allocate();
    EXPECT_EQ(model.weight_bytes(), planned_weight_bytes(*cfg, *fam, dt)) << m << " " << dtype_name(dt);
  }
}

// The preset's per-layer structure, narrowed (same layer count and options, small widths) so a
// full-depth dummy forward runs in CI; the dummy init scales by fan-in, so depth is what matters.
std::string narrowed(const std::string& name, bool moe) {
  Json j = Json::parse(std::ifstream(preset(name)));
  j["vocab_size"] = 512;
  j["hidden_size"] = 128;
  j["intermediate_size"] = 256;
  j["num_attention_heads"] = 4;
  j["num_key_value_heads"] = 2;
  j["head_dim"] = 64;
  if (moe) {
    j["num_experts"] = 16;
    j["moe_intermediate_size"] = 64;
  }
  std::string path = ::testing::TempDir() + name + "-narrow.json";
  std::ofstream(path) << j.dump();
  return path;
}

void check_dummy_depth(const std::string& name, bool moe, const std::string& dtype) {
  EngineConfig ec;
  ec.model_path = narrowed(name, moe);
  ec.load_format = "dummy";
  ec.dtype = dtype;
  ec.random_seed = 11;
  auto r = create_model_runner(ec);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ModelRunner& runner = **r;
  ASSERT_TRUE(runner.init_kv_cache(256, 16).ok());
  const int layers = runner.info().num_layers;
  testing::SlotPool pool(256, 16);
  testing::Request req;
  StepInput in;
  in.return_logits = true;
  testing::add_chunk(in, req, {1, 7, 300, 42, 5, 511, 0, 9}, pool, true);
  for (int l = 0; l < layers; ++l) in.batch.capture_hidden_layers.push_back(l);
  auto out = runner.step(in);
  ASSERT_TRUE(out.ok()) << out.error().message;
  ASSERT_EQ(static_cast<int>(out->hidden_states.size()), layers);
  for (int l = 0; l < layers; ++l) {
    double ss = 0;
    for (float v : out->hidden_states[l]) {
      ASSERT_TRUE(std::isfinite(v)) << name << " layer " << l;
      ss += static_cast<double>(v) * v;
    }
    const double rms = std::sqrt(ss / static_cast<double>(out->hidden_states[l].size()));
    // Residual growth stays polynomial in depth, far from fp32 (or bf16) overflow.
    EXPECT_LT(rms, 100.0) << name << " layer " << l;
    EXPECT_GT(rms, 1e-4) << name << " layer " << l << ": activations vanished";
  }
  float lo = 0, hi = 0;
  for (float v : out->logits) {
    ASSERT_TRUE(std::isfinite(v));
    lo = std::min(lo, v), hi = std::max(hi, v);
  }
  EXPECT_GT(hi - lo, 1e-3) << name << ": logits carry information";
  if (dtype != "float32") return;
  // Same seed → bitwise the same dummy weights; another seed → other weights.
  auto again = create_model_runner(ec);
  ec.random_seed = 12;
  auto other = create_model_runner(ec);
  ASSERT_TRUE(again.ok() && other.ok());
  for (auto* r2 : {again->get(), other->get()}) {
    ASSERT_TRUE(r2->init_kv_cache(256, 16).ok());
    testing::SlotPool pool2(256, 16);
    testing::Request req2;
    StepInput in2;
    in2.return_logits = true;
    testing::add_chunk(in2, req2, {1, 7, 300, 42, 5, 511, 0, 9}, pool2, true);
    auto out2 = r2->step(in2);
    ASSERT_TRUE(out2.ok());
    if (r2 == again->get()) {
      EXPECT_EQ(out2->logits, out->logits) << name << ": same seed, same dummy weights";
    } else {
      EXPECT_NE(out2->logits, out->logits) << name << ": another seed, other weights";
    }
  }
}

TEST(Presets, DummyWeightsStayFiniteThroughEveryLayer) {
  check_dummy_depth("qwen3-32b", false, "float32");  // 64 layers
  check_dummy_depth("llama-3.1-8b", false, "bfloat16");
  check_dummy_depth("qwen3-30b-a3b", true, "bfloat16");  // 48 MoE layers
}

}  // namespace
}  // namespace sgl::engine
