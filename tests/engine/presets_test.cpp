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
#include "engine/safetensors.h"
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
      {"qwen3-0.6b", 596049920},
      {"qwen3-4b", 4022468096},
      {"qwen3-8b", 8190735360},
      {"qwen3-32b", 32762123264},
      {"qwen3-30b-a3b", 30532122624},
      {"qwen3-coder-480b-a35b", 480154875392},
      {"llama-3.1-8b", 8030261248},
      // The five families below, each derived by hand from the published tensor shapes (V vocab, H
      // hidden, L layers, nh/nkv heads of hd, I MLP width, E experts of width Im) and checked against
      // the published figure where one was found.
      // Qwen v1 (untied, q|k|v fused with bias, F = intermediate_size / 2):
      //   2VH + H + L(2H [ln_1, ln_2] + 3H*H + 3H [c_attn] + H*H [c_proj] + 3F*H [w1, w2, c_proj]).
      // qwen-7b = 15,442,649,088 / 2, the total_size of the bf16 model.safetensors.index.json.
      {"qwen-1.8b", 1836828672},
      {"qwen-7b", 7721324544},
      {"qwen-14b", 14167290880},
      {"qwen-72b", 72287920128},
      // Qwen2-MoE (untied; q/k/v bias; every layer sparse with one sigmoid-gated shared expert Is):
      //   2VH + H + L(2H + (nh+2nkv)hd*H + (nh+2nkv)hd + H*nh*hd + E*H [router] + 3E*Im*H
      //               + 3Is*H + H [shared_expert_gate]).
      // qwen1.5-moe-a2.7b = 28,631,568,384 / 2 (bf16 index total_size); qwen2-57b-a14b is the Hub's
      // safetensors total.
      {"qwen1.5-moe-a2.7b", 14315784192},
      {"qwen2-57b-a14b", 57408658944},
      // Gemma 2 (tied, no biases, four norms per layer):
      //   VH + H + L(4H + (nh+2nkv)hd*H + H*nh*hd + 3I*H); the Hub's safetensors totals.
      {"gemma-2-2b", 2614341888},
      {"gemma-2-9b", 9241705984},
      {"gemma-2-27b", 27227128320},
      // Grok-2 (untied, four norms, E = 8 experts of Im = 16384 beside a residual dense MLP I = 32768):
      //   2VH + H + L(4H + (nh+2nkv)hd*H + H*nh*hd + E*H + 3E*Im*H + 3I*H) = 269,515,497,472, the total
      //   of the safetensors headers (each expert summed over its 8 TP slices).
      {"grok-2", 269515497472},
      // Bailing MoE v1 (untied, fused [q; k; v] without bias, no dense bias, S shared experts as one
      // SwiGLU of width S*Im, first_k_dense_replace 0):
      //   2VH + H + L(2H + (nh+2nkv)hd*H + H*nh*hd + E*H + 3E*Im*H + 3S*Im*H); cards: 16.8B and 290B.
      {"ling-lite-1.5", 16801974272},
      {"ling-plus", 290602910976},
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
                              {"tiny-llama", DType::kF32},
                              {"tiny-qwen", DType::kBF16},
                              {"tiny-qwen2-moe", DType::kF32},
                              {"tiny-gemma2", DType::kBF16},
                              {"tiny-grok2", DType::kF32},
                              {"tiny-bailing-moe", DType::kBF16}}) {
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
  // The families' own spellings of the same widths.
  if (j.contains("kv_channels")) j["kv_channels"] = 64;              // Qwen v1's head_dim
  if (j.contains("num_local_experts")) j["num_local_experts"] = 16;  // Grok
  if (j.contains("shared_expert_intermediate_size")) j["shared_expert_intermediate_size"] = 128;
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
  // One preset per newer family, the deepest.
  check_dummy_depth("qwen-72b", false, "bfloat16");       // 80 layers, fused c_attn
  check_dummy_depth("qwen2-57b-a14b", true, "bfloat16");  // 28 MoE layers, gated shared expert
  check_dummy_depth("gemma-2-27b", false, "float32");     // 46 sandwich-normed layers, soft-caps
  check_dummy_depth("grok-2", true, "bfloat16");          // 64 layers, residual MoE, ×90.5 embeddings
  check_dummy_depth("ling-plus", true, "bfloat16");       // 88 MoE layers, norm_head
}

TEST(Presets, ParameterCountIsTheTinyCheckpointsTotal) {
  // parameter_count() against real checkpoints of every family: the sum of every tensor's numel.
  for (const std::string m : {"tiny-qwen3", "tiny-qwen3-moe", "tiny-qwen2", "tiny-llama", "tiny-qwen",
                              "tiny-qwen2-moe", "tiny-gemma2", "tiny-grok2", "tiny-bailing-moe"}) {
    const std::string dir = testing::model_dir(m);
    if (dir.empty()) GTEST_SKIP() << "../shared not found: tiny models are not available here";
    auto cfg = load_model_config(dir);
    ASSERT_TRUE(cfg.ok()) << m << ": " << cfg.error().message;
    auto fam = family_options(*cfg);
    ASSERT_TRUE(fam.ok()) << m;
    auto file = SafetensorsFile::open(dir + "/model.safetensors");
    ASSERT_TRUE(file.ok()) << m << ": " << file.error().message;
    int64_t total = 0;
    for (const auto& [name, t] : (*file)->tensors()) total += t.numel();
    EXPECT_EQ(parameter_count(*cfg, *fam), total) << m;
  }
}

}  // namespace
}  // namespace sgl::engine
