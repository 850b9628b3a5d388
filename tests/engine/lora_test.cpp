// Multi-LoRA in the engine: an adapter in a slot equals its merged checkpoint, rows of different
// adapters (and the base) in one batch each equal their run alone, and bad adapters are refused.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine_test_util.h"
#include "lora_test_util.h"

namespace sgl::engine {
namespace {

using testing::add_chunk;
using testing::lora_path;
using testing::Request;
using testing::SlotPool;

const std::vector<int32_t> kPrompt = {785, 6722, 3283, 315,  9625, 374,  12095,
                                      13,  576,  1156, 2390, 315,  1380, 374};

#define REQUIRE_ADAPTERS(...) \
  if (auto why = testing::make_lora_adapters({__VA_ARGS__}); !why.empty()) GTEST_SKIP() << why

std::shared_ptr<const LoraAdapter> load(const ModelRunner& runner, const std::string& name,
                                        LoraLimits limits = {}) {
  auto a = load_peft_adapter(lora_path(name), *runner.info().config, limits, name, next_lora_uid());
  EXPECT_TRUE(a.ok()) << (a.ok() ? "" : a.error().message);
  return a.ok() ? std::shared_ptr<const LoraAdapter>(std::move(*a)) : nullptr;
}

// Greedy decoding of kPrompt for `steps` tokens: the logits row of each step.
std::vector<std::vector<float>> greedy_logits(ModelRunner& runner, int32_t lora_slot, int steps,
                                              std::vector<LoraSlotLoad> loads = {}) {
  SlotPool pool(runner.kv_num_slots(), 16);
  Request req;
  std::vector<std::vector<float>> rows;
  std::vector<int32_t> next = kPrompt;
  for (int s = 0; s < steps; ++s) {
    StepInput in;
    in.return_logits = true;
    if (s == 0) in.lora_loads = loads;
    add_chunk(in, req, next, pool, false);
    in.batch.segments.back().lora_slot = lora_slot;
    auto out = runner.step(in);
    EXPECT_TRUE(out.ok()) << (out.ok() ? "" : out.error().message);
    if (!out.ok()) return rows;
    rows.push_back(out->logits);
    next = {out->rows[0].token};
  }
  return rows;
}

int32_t argmax(const std::vector<float>& v) {
  return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

void expect_matches_merged(const std::string& base, const std::string& name) {
  auto runner = testing::make_runner(testing::model_dir(base), "float32");
  auto merged = testing::make_runner(lora_path(name) + "-merged", "float32");
  ASSERT_TRUE(runner && merged);
  LoraPoolConfig lc;
  lc.num_slots = 2;
  ASSERT_TRUE(runner->init_lora(lc).ok());
  auto adapter = load(*runner, name);
  ASSERT_TRUE(adapter);
  const auto with = greedy_logits(*runner, 1, 8, {{1, adapter}});
  const auto want = greedy_logits(*merged, -1, 8);
  const auto plain = greedy_logits(*runner, -1, 8);
  ASSERT_EQ(with.size(), want.size());
  int differs_from_base = 0;
  for (size_t s = 0; s < want.size(); ++s) {
    float scale = 1.0f, diff = 0.0f;
    for (size_t i = 0; i < want[s].size(); ++i) {
      scale = std::max(scale, std::fabs(want[s][i]));
      diff = std::max(diff, std::fabs(want[s][i] - with[s][i]));
    }
    EXPECT_LT(diff, 1e-4f * scale) << name << " step " << s;
    EXPECT_EQ(argmax(with[s]), argmax(want[s])) << name << " step " << s;
    differs_from_base += argmax(plain[s]) != argmax(want[s]);
  }
  // The adapter must matter, or the comparison proves nothing (make_lora's strength 0.5 does).
  EXPECT_GT(differs_from_base, 0) << name;
}

TEST(Lora, AllSevenModulesMatchMergedCheckpoint) {
  REQUIRE_ADAPTERS("a");
  expect_matches_merged("tiny-qwen3", "a");
}

TEST(Lora, RankSixteenOnQAndVMatchesMergedCheckpoint) {
  REQUIRE_ADAPTERS("b");
  expect_matches_merged("tiny-qwen3", "b");
}

TEST(Lora, RsLoraScaleIsAlphaOverSqrtRank) {
  REQUIRE_ADAPTERS("rs");
  expect_matches_merged("tiny-qwen3", "rs");
}

TEST(Lora, MoeAttentionAdapterMatchesMergedCheckpoint) {
  REQUIRE_ADAPTERS("moe");
  expect_matches_merged("tiny-qwen3-moe", "moe");
}

// Rows of three adapters and the base in one forward equal each run alone, bit for bit.
void expect_batch_invariant(const std::string& dtype) {
  auto runner = testing::make_runner(testing::model_dir("tiny-qwen3"), dtype);
  ASSERT_TRUE(runner);
  LoraPoolConfig lc;
  lc.num_slots = 3;
  ASSERT_TRUE(runner->init_lora(lc).ok());
  std::vector<LoraSlotLoad> loads = {
      {0, load(*runner, "a")}, {1, load(*runner, "b")}, {2, load(*runner, "rs")}};
  const std::vector<int32_t> slots = {2, -1, 0, 1, 0};
  std::vector<std::vector<int32_t>> prompts;
  for (size_t i = 0; i < slots.size(); ++i) {
    std::vector<int32_t> p(kPrompt.begin(), kPrompt.begin() + 6 + 2 * static_cast<long>(i));
    p.push_back(static_cast<int32_t>(100 + i));
    prompts.push_back(p);
  }
  std::vector<std::vector<float>> alone;
  for (size_t i = 0; i < slots.size(); ++i) {
    SlotPool pool(runner->kv_num_slots(), 16);
    Request req;
    StepInput in;
    in.return_logits = true;
    if (i == 0) in.lora_loads = loads;
    add_chunk(in, req, prompts[i], pool, false);
    in.batch.segments.back().lora_slot = slots[i];
    auto out = runner->step(in);
    ASSERT_TRUE(out.ok()) << out.error().message;
    alone.push_back(out->logits);
  }
  SlotPool pool(runner->kv_num_slots(), 16);
  std::vector<Request> reqs(slots.size());
  StepInput in;
  in.return_logits = true;
  for (size_t i = 0; i < slots.size(); ++i) {
    add_chunk(in, reqs[i], prompts[i], pool, false);
    in.batch.segments.back().lora_slot = slots[i];
  }
  auto out = runner->step(in);
  ASSERT_TRUE(out.ok()) << out.error().message;
  const size_t v = out->logits.size() / slots.size();
  for (size_t i = 0; i < slots.size(); ++i)
    EXPECT_TRUE(std::equal(alone[i].begin(), alone[i].end(), out->logits.begin() + i * v))
        << dtype << " row " << i << " (slot " << slots[i] << ")";
  // And the adapters do change the rows: slot 0's prompt under the base differs.
  EXPECT_NE(alone[2], alone[1]);
}

TEST(Lora, MixedBatchIsBatchInvariantF32) {
  REQUIRE_ADAPTERS("a", "b", "rs");
  expect_batch_invariant("float32");
}

TEST(Lora, MixedBatchIsBatchInvariantBf16) {
  REQUIRE_ADAPTERS("a", "b", "rs");
  expect_batch_invariant("bfloat16");
}

TEST(Lora, EmptyOrMissingSlotIsRefused) {
  if (testing::model_dir("tiny-qwen3").empty()) GTEST_SKIP() << "../shared/models not found";
  auto runner = testing::make_runner(testing::model_dir("tiny-qwen3"), "float32");
  ASSERT_TRUE(runner);
  SlotPool pool(runner->kv_num_slots(), 16);
  Request req;
  StepInput in;
  add_chunk(in, req, kPrompt, pool, false);
  in.batch.segments.back().lora_slot = 0;
  auto out = runner->step(in);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("LoRA not enabled"), std::string::npos) << out.error().message;
  LoraPoolConfig lc;
  lc.num_slots = 2;
  ASSERT_TRUE(runner->init_lora(lc).ok());
  out = runner->step(in);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("holds no adapter"), std::string::npos) << out.error().message;
}

std::string load_error(const std::string& base, const std::string& dir, LoraLimits limits = {}) {
  auto mc = load_model_config(testing::model_dir(base));
  if (!mc.ok()) return "config: " + mc.error().message;
  auto a = load_peft_adapter(dir, *mc, limits, "x", next_lora_uid());
  return a.ok() ? "" : a.error().message;
}

TEST(Lora, AdaptersTheServerCannotHonourAreRefused) {
  REQUIRE_ADAPTERS("a", "b", "moe", "moe-experts");
  const std::string d = testing::LoraAssets::get().dir();
  LoraLimits rank4;
  rank4.max_rank = 4;
  EXPECT_NE(load_error("tiny-qwen3", d + "/a", rank4).find("exceeds --max-lora-rank 4"), std::string::npos);
  LoraLimits only_q;
  only_q.target_modules = 1u << static_cast<int>(LoraModule::kQ);
  const std::string targets = load_error("tiny-qwen3", d + "/a", only_q);
  EXPECT_NE(targets.find("not in --lora-target-modules"), std::string::npos) << targets;
  const std::string experts = load_error("tiny-qwen3-moe", d + "/moe-experts");
  EXPECT_NE(experts.find("expert"), std::string::npos) << experts;
  const std::string other_base = load_error("tiny-qwen3", d + "/moe");
  EXPECT_NE(other_base.find("another base model"), std::string::npos) << other_base;
  EXPECT_NE(load_error("tiny-qwen3", d + "/missing").find("adapter_config.json"), std::string::npos);
  // DoRA: the same adapter with use_dora set.
  const std::string dora = d + "/dora";
  std::filesystem::create_directories(dora);
  std::filesystem::copy_file(d + "/b/adapter_model.safetensors", dora + "/adapter_model.safetensors",
                             std::filesystem::copy_options::overwrite_existing);
  std::ifstream in(d + "/b/adapter_config.json");
  nlohmann::json cfg = nlohmann::json::parse(in);
  cfg["use_dora"] = true;
  std::ofstream(dora + "/adapter_config.json") << cfg.dump();
  EXPECT_NE(load_error("tiny-qwen3", dora).find("DoRA"), std::string::npos);
  cfg["use_dora"] = false;
  cfg["peft_type"] = "IA3";
  std::ofstream(dora + "/adapter_config.json") << cfg.dump();
  EXPECT_NE(load_error("tiny-qwen3", dora).find("not LORA"), std::string::npos);
}

TEST(Lora, TargetModuleNamesParseAsSGLang) {
  auto all = parse_lora_target_modules({"all"});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, kAllLoraModules);
  auto fused = parse_lora_target_modules({"qkv_proj", "gate_up_proj"});
  ASSERT_TRUE(fused.ok());
  EXPECT_EQ(lora_module_names(*fused),
            (std::vector<std::string>{"q_proj", "k_proj", "v_proj", "gate_proj", "up_proj"}));
  EXPECT_FALSE(parse_lora_target_modules({"lm_head"}).ok());
}

}  // namespace
}  // namespace sgl::engine
