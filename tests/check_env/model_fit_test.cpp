// The model-fit estimate on real-size presets (conf/models) against given memory sizes.
#include "server/check_env/model_fit.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "engine/model_config.h"
#include "engine/models/model_size.h"
#include "engine/models/registry.h"

namespace sgl::server::check_env {
namespace {

constexpr int64_t kGiB = int64_t(1) << 30;

std::string preset(const std::string& name) {
  return std::string(SGL_SOURCE_DIR) + "/conf/models/" + name + ".json";
}

ServerArgs args_for(const std::string& name) {
  ServerArgs a;
  a.model_path = preset(name);
  return a;
}

MemoryView host(int64_t bytes) {
  MemoryView m;
  m.usable = m.mem_available = bytes;
  return m;
}

int fatal_count(const FitResult& r) {
  return int(std::count_if(r.findings.begin(), r.findings.end(),
                           [](const Finding& f) { return f.severity == Severity::kFatal; }));
}

std::string all_messages(const FitResult& r) {
  std::string s;
  for (const auto& f : r.findings) s += f.message + "\n";
  return s;
}

TEST(ModelEstimate, UsesTheEnginesOwnSizes) {
  const ServerArgs a = args_for("qwen3-coder-480b-a35b");
  auto m = estimate_model(a);
  ASSERT_TRUE(m.ok()) << m.error().message;
  auto mc = engine::load_model_config(a.model_path);
  ASSERT_TRUE(mc.ok());
  auto family = engine::family_options(*mc);
  ASSERT_TRUE(family.ok());
  EXPECT_EQ(m->load_bytes, engine::planned_weight_bytes(*mc, *family, engine::DType::kBF16));
  EXPECT_EQ(m->serve_bytes, m->load_bytes);  // bf16, nothing quantized
  EXPECT_NEAR(double(m->parameters), 480.2e9, 1e9);
  EXPECT_TRUE(m->dummy);  // a config file: random weights
  // 62 layers x 8 KV heads x 128 x (K and V) x bf16.
  EXPECT_EQ(m->kv_bytes_per_token, 62LL * 8 * 128 * 2 * 2);
  EXPECT_EQ(m->context_length, 262144);
}

TEST(ModelFit, The480BPresetDoesNotFit24GiBAndSaysByHowMuch) {
  const ServerArgs a = args_for("qwen3-coder-480b-a35b");
  auto m = estimate_model(a);
  ASSERT_TRUE(m.ok());
  const FitResult r = check_model_fit(*m, a, host(24 * kGiB), {});
  ASSERT_EQ(fatal_count(r), 1) << all_messages(r);
  const std::string msg = all_messages(r);
  EXPECT_NE(msg.find("does not fit"), std::string::npos) << msg;
  EXPECT_NE(msg.find("894.5 GiB"), std::string::npos) << msg;
  EXPECT_NE(msg.find("24.0 GiB available"), std::string::npos) << msg;
  EXPECT_NE(msg.find("480.2B parameters"), std::string::npos) << msg;
}

TEST(ModelFit, FitsWithEnoughMemoryAndPlansThePoolAsTheScheduler) {
  const ServerArgs a = args_for("qwen3-coder-480b-a35b");
  auto m = estimate_model(a);
  ASSERT_TRUE(m.ok());
  const int64_t mem = 1200 * kGiB;
  const FitResult r = check_model_fit(*m, a, host(mem), {});
  EXPECT_EQ(fatal_count(r), 0) << all_messages(r);
  const int64_t tokens = int64_t(double(mem - m->serve_bytes) * 0.88 / double(m->kv_bytes_per_token));
  EXPECT_EQ(planned_kv_tokens(mem - m->serve_bytes, a, m->kv_bytes_per_token), tokens);
  bool pool_line = false;
  for (const auto& e : r.entries)
    if (e.key == "KV pool (planned)") pool_line = e.value.starts_with(std::to_string(tokens) + " tokens");
  EXPECT_TRUE(pool_line);
}

TEST(ModelFit, NodesShareTheWeights) {
  ServerArgs a = args_for("qwen3-coder-480b-a35b");
  a.tp_size = 8;
  a.nnodes = 8;
  auto m = estimate_model(a);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(fatal_count(check_model_fit(*m, a, host(200 * kGiB), {})), 0);  // ≈112 GiB per node
  const FitResult small = check_model_fit(*m, a, host(24 * kGiB), {});
  ASSERT_EQ(fatal_count(small), 1);
  EXPECT_NE(all_messages(small).find("per node (--nnodes 8)"), std::string::npos) << all_messages(small);
}

TEST(ModelFit, MaxTotalTokensCapsThePoolAndPagesRoundIt) {
  ServerArgs a = args_for("qwen3-0.6b");
  a.max_total_tokens = 1000;
  a.page_size = 64;
  EXPECT_EQ(planned_kv_tokens(100 * kGiB, a, 1024), 960);
  a.max_total_tokens.reset();
  EXPECT_EQ(planned_kv_tokens(0, a, 1024), 0);
}

TEST(ModelFit, NoRoomForTheKvCacheIsFatal) {
  const ServerArgs a = args_for("qwen3-0.6b");
  auto m = estimate_model(a);
  ASSERT_TRUE(m.ok());
  const FitResult r = check_model_fit(*m, a, host(m->load_bytes + 1000), {});
  ASSERT_EQ(fatal_count(r), 1) << all_messages(r);
  EXPECT_NE(all_messages(r).find("not enough memory for the KV cache"), std::string::npos);
}

TEST(ModelFit, ACgroupBelowMemAvailableNeedsMaxTotalTokens) {
  const ServerArgs a = args_for("qwen3-0.6b");
  auto m = estimate_model(a);
  ASSERT_TRUE(m.ok());
  MemoryView mem;
  mem.mem_available = 22 * kGiB;
  mem.cgroup_room = 4 * kGiB;
  mem.usable = 4 * kGiB;
  const FitResult r = check_model_fit(*m, a, mem, {});
  ASSERT_EQ(fatal_count(r), 1) << all_messages(r);
  const int64_t fits = planned_kv_tokens(4 * kGiB - m->serve_bytes, a, m->kv_bytes_per_token);
  EXPECT_NE(all_messages(r).find("--max-total-tokens " + std::to_string(fits)), std::string::npos)
      << all_messages(r);
  // With that cap the same machine is fine.
  ServerArgs capped = a;
  capped.max_total_tokens = fits;
  EXPECT_EQ(fatal_count(check_model_fit(*m, capped, mem, {})), 0);
}

TEST(ModelFit, QuantizedWeightsServeSmallerButLoadAtBf16) {
  ServerArgs a = args_for("qwen3-8b");
  a.quantization = "fp8";
  auto m = estimate_model(a);
  ASSERT_TRUE(m.ok()) << m.error().message;
  auto plain = estimate_model(args_for("qwen3-8b"));
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(m->load_bytes, plain->load_bytes);
  // Linears (≈85% of the bytes) at 1 byte + a scale per 128: about 0.59 of bf16.
  EXPECT_GT(m->serve_bytes, plain->load_bytes * 50 / 100);
  EXPECT_LT(m->serve_bytes, plain->load_bytes * 65 / 100);
}

TEST(ModelEstimate, WhatTheEngineRefusesBeforeLoading) {
  ServerArgs a = args_for("qwen3-8b");
  a.tp_size = 3;  // 32 heads
  auto split = estimate_model(a);
  ASSERT_FALSE(split.ok());
  EXPECT_NE(split.error().message.find("--tp-size 3"), std::string::npos) << split.error().message;

  ServerArgs dtype = args_for("qwen3-8b");
  dtype.dtype = "int8";
  EXPECT_FALSE(estimate_model(dtype).ok());

  ServerArgs missing;
  missing.model_path = "/nonexistent/model";
  EXPECT_FALSE(estimate_model(missing).ok());

  ServerArgs real = args_for("qwen3-8b");
  real.load_format = "safetensors";  // a config file has no weights
  EXPECT_FALSE(estimate_model(real).ok());
}

TEST(ModelFit, CudaChecksTheGpuAndTheBackendsLimits) {
  ServerArgs a = args_for("qwen3-8b");
  a.device = "cuda";
  auto m = estimate_model(a);
  ASSERT_TRUE(m.ok());
  GpuInfo h100{0, "NVIDIA H100 80GB HBM3", 9, 0, 79 * kGiB, 78 * kGiB};
  const FitResult fits = check_model_fit(*m, a, host(100 * kGiB), {h100});
  EXPECT_EQ(fatal_count(fits), 0) << all_messages(fits);

  ServerArgs big = args_for("qwen3-coder-480b-a35b");
  big.device = "cuda";
  auto bm = estimate_model(big);
  ASSERT_TRUE(bm.ok());
  const FitResult too_big = check_model_fit(*bm, big, host(2000 * kGiB), {h100});
  ASSERT_EQ(fatal_count(too_big), 1) << all_messages(too_big);
  EXPECT_NE(all_messages(too_big).find("GPU 0 (NVIDIA H100 80GB HBM3, 78.0 GiB free"), std::string::npos)
      << all_messages(too_big);

  a.dtype = "float32";
  EXPECT_NE(all_messages(check_model_fit(*m, a, host(100 * kGiB), {h100})).find("runs in bfloat16"),
            std::string::npos);
}

}  // namespace
}  // namespace sgl::server::check_env
