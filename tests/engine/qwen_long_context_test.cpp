// Qwen v1's long-context tricks past seq_length, on tiny-qwen with seq_length cut to 32 so short
// prompts reach them (no golden does: the reference is the remote code's own arithmetic):
// - dynamic NTK: a request whose prompt is longer than seq_length runs, start to finish, with RoPE
//   base·α^(d/(d−2)) — exactly the model whose rotary_emb_base is that base;
// - logn: queries at positions p ≥ seq_length are scaled by ln(p+1)/ln(seq_length), earlier ones not.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine_test_util.h"

namespace sgl::engine {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using testing::add_chunk;
using testing::Request;
using testing::SlotPool;

// tiny-qwen's weights under an edited config.
std::string variant(const std::string& name, const std::function<void(Json&)>& edit) {
  const std::string src = testing::model_dir("tiny-qwen");
  const std::string dir = ::testing::TempDir() + "sglcpp_qwen_" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  Json cfg = Json::parse(std::ifstream(src + "/config.json"));
  cfg["seq_length"] = 32;
  edit(cfg);
  std::ofstream(dir + "/config.json") << cfg.dump();
  fs::create_symlink(src + "/model.safetensors", dir + "/model.safetensors");
  return dir;
}

std::unique_ptr<ModelRunner> runner_for(const std::string& dir) {
  EngineConfig cfg;
  cfg.model_path = dir;
  cfg.dtype = "float32";
  cfg.context_length = 256;
  auto r = create_model_runner(cfg);
  EXPECT_TRUE(r.ok()) << r.error().message;
  if (!r.ok()) return nullptr;
  auto runner = std::move(*r);
  EXPECT_TRUE(runner->init_kv_cache(1024, 16).ok());
  return runner;
}

// Last-token logits of `prompt` fed in chunks of 7, then of `decode` more tokens one at a time,
// every segment carrying `alpha`.
std::vector<float> run(ModelRunner& runner, int n, int decode, int32_t alpha) {
  std::vector<int32_t> ids;
  for (int i = 0; i < n + decode; ++i) ids.push_back(100 + (i * 37) % 5000);
  SlotPool pool(runner.kv_num_slots(), 16);
  Request req;
  std::vector<float> all;
  auto step = [&](const std::vector<int32_t>& chunk, bool want) {
    StepInput in;
    in.return_logits = true;
    add_chunk(in, req, chunk, pool, false);
    in.batch.segments.back().ntk_alpha = alpha;
    if (!want) in.batch.segments.back().logits_start = -1, in.sampling.clear();
    auto out = runner.step(in);
    EXPECT_TRUE(out.ok()) << out.error().message;
    if (out.ok() && want) all.insert(all.end(), out->logits.begin(), out->logits.end());
  };
  for (int s = 0; s < n; s += 7) {
    const int e = std::min(n, s + 7);
    step(std::vector<int32_t>(ids.begin() + s, ids.begin() + e), e == n);
  }
  for (int i = 0; i < decode; ++i) step({ids[n + i]}, true);
  return all;
}

TEST(QwenLongContext, DynamicNtkEqualsTheRebasedModel) {
  if (testing::model_dir("tiny-qwen").empty()) GTEST_SKIP() << "../shared not found";
  auto ntk = runner_for(variant("ntk", [](Json& c) { c["use_logn_attn"] = false; }));
  ASSERT_NE(ntk, nullptr);
  const int32_t alpha = ntk->info().dynamic_ntk_alpha(50);
  ASSERT_EQ(alpha, 3);  // 50 tokens over seq_length 32
  auto rebased = runner_for(variant("rebased", [&](Json& c) {
    c["use_logn_attn"] = false;
    c["use_dynamic_ntk"] = false;
    const double d = 16;  // kv_channels × rotary_pct
    c["rotary_emb_base"] = c["rotary_emb_base"].get<double>() * std::pow(3.0, d / (d - 2));
  }));
  ASSERT_NE(rebased, nullptr);
  const auto a = run(*ntk, 50, 5, alpha);
  const auto b = run(*rebased, 50, 5, 1);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * 4), 0) << "α = 3 is the rebased model, bit for bit";
  EXPECT_NE(a, run(*ntk, 50, 5, 1)) << "and differs from the model's own base";
}

TEST(QwenLongContext, LognScalesOnlyQueriesPastSeqLength) {
  if (testing::model_dir("tiny-qwen").empty()) GTEST_SKIP() << "../shared not found";
  auto logn = runner_for(variant("logn", [](Json& c) { c["use_dynamic_ntk"] = false; }));
  auto plain = runner_for(variant("plain", [](Json& c) {
    c["use_dynamic_ntk"] = false;
    c["use_logn_attn"] = false;
  }));
  ASSERT_NE(logn, nullptr);
  ASSERT_NE(plain, nullptr);
  // Positions 0..31: the factor is 1, so the logits are the plain model's exactly.
  EXPECT_EQ(run(*logn, 32, 0, 1), run(*plain, 32, 0, 1));
  // Position 32 onwards is scaled.
  EXPECT_NE(run(*logn, 33, 0, 1), run(*plain, 33, 0, 1));
}

}  // namespace
}  // namespace sgl::engine
