// The family config readers (engine/models/<family>.cpp): published keys and their defaults, the
// families' own names for common fields, refusals of what the engine does not compute, and
// Bailing's norm_head applied at load.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/model_config.h"
#include "engine/models/decoder.h"
#include "engine/models/registry.h"
#include "engine_test_util.h"

namespace sgl::engine {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

Result<ModelConfig> parse(const Json& j) { return parse_model_config(j.dump(), "config.json"); }

Json base(const char* arch, const char* type) {
  return {{"architectures", {arch}}, {"model_type", type},     {"vocab_size", 1000},
          {"hidden_size", 64},       {"num_hidden_layers", 4}, {"num_attention_heads", 4}};
}

TEST(FamilyConfig, QwenV1NamesAndHalvedMlp) {
  Json j = base("QWenLMHeadModel", "qwen");
  j.update({{"kv_channels", 16},
            {"intermediate_size", 384},
            {"layer_norm_epsilon", 1e-5},
            {"rotary_emb_base", 50000},
            {"rotary_pct", 0.5},
            {"seq_length", 2048}});
  auto c = parse(j);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->head_dim, 16);
  EXPECT_EQ(c->num_kv_heads, 4);
  EXPECT_EQ(c->intermediate_size, 192);
  EXPECT_DOUBLE_EQ(c->rms_norm_eps, 1e-5);
  EXPECT_DOUBLE_EQ(c->rope.theta, 50000);
  EXPECT_EQ(c->rope.rotary_dim, 8);
  EXPECT_EQ(c->max_position_embeddings, 2048) << "the served context is seq_length";
  EXPECT_EQ(c->logn_seq_length, 2048);
  EXPECT_EQ(c->dynamic_ntk_seq_length, 2048);
  auto o = family_options(*c);
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->qkv_bias);
  EXPECT_EQ(o->names.qkv, "attn.c_attn");
  j["no_bias"] = false;
  auto refused = parse(j);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("no_bias"), std::string::npos) << refused.error().message;
}

TEST(FamilyConfig, QwenV1ContextPastTheLognTableIsRefusedClearly) {
  const std::string dir = testing::model_dir("tiny-qwen");
  if (dir.empty()) GTEST_SKIP() << "../shared not found";
  EngineConfig cfg;
  cfg.model_path = dir;
  cfg.context_length = 16384;  // past seq_length 8192: dynamic NTK and logn take over
  auto ok = create_model_runner(cfg);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ((*ok)->info().dynamic_ntk_seq_length, 8192);
  EXPECT_EQ((*ok)->info().dynamic_ntk_alpha(8192), 1);
  EXPECT_EQ((*ok)->info().dynamic_ntk_alpha(8193), 3);
  EXPECT_EQ((*ok)->info().dynamic_ntk_alpha(16384), 3);
  EXPECT_EQ((*ok)->info().dynamic_ntk_alpha(16385), 7);
  cfg.context_length = 65536;
  auto r = create_model_runner(cfg);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("logn"), std::string::npos) << r.error().message;
}

// --model-layer-nums: a model's first N layers only (big presets' shapes in the memory there is).
TEST(FamilyConfig, ModelLayerNumsKeepsTheFirstLayers) {
  const std::string dir = testing::model_dir("tiny-gemma2");
  if (dir.empty()) GTEST_SKIP() << "../shared not found";
  EngineConfig cfg;
  cfg.model_path = dir;
  cfg.model_layer_nums = 3;
  auto r = create_model_runner(cfg);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)->info().num_layers, 3);
  EXPECT_EQ((*r)->info().kv_bytes_per_token, 2LL * 3 * 2 * 32 * 2);  // 3 layers × K+V × 2 heads × 32 × bf16
}

TEST(FamilyConfig, Qwen2MoeDefaultsAreHfs) {
  Json j = base("Qwen2MoeForCausalLM", "qwen2_moe");
  j["intermediate_size"] = 128;
  auto c = parse(j);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_FALSE(c->norm_topk_prob) << "HF's default (SGLang-JAX's True differs)";
  EXPECT_EQ(c->num_experts, 60);
  EXPECT_EQ(c->num_experts_per_tok, 4);
  EXPECT_EQ(c->shared_expert_intermediate_size, 5632);
  auto o = family_options(*c);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->shared_expert, SharedExpert::kSigmoidGated);
  EXPECT_TRUE(o->qkv_bias);
  j["use_sliding_window"] = true;
  EXPECT_FALSE(parse(j).ok());
}

TEST(FamilyConfig, Gemma2LayersScalesAndCaps) {
  Json j = base("Gemma2ForCausalLM", "gemma2");
  j.update({{"hidden_size", 3584},
            {"num_attention_heads", 16},
            {"num_key_value_heads", 8},
            {"head_dim", 256},
            {"intermediate_size", 14336},
            {"query_pre_attn_scalar", 256},
            {"attn_logit_softcapping", 50.0},
            {"final_logit_softcapping", 30.0},
            {"sliding_window", 4096},
            {"torch_dtype", "bfloat16"}});
  auto c = parse(j);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_FLOAT_EQ(c->embedding_scale, static_cast<float>(std::sqrt(3584.0)));
  auto fam = family_options(*c);
  ASSERT_TRUE(fam.ok());
  // HF's normalizer is a tensor of the activations' dtype: rounded for a bf16 model only.
  EXPECT_FLOAT_EQ(DecoderModel(*c, *fam, DType::kBF16).config().embedding_scale, 59.75f);
  EXPECT_FLOAT_EQ(DecoderModel(*c, *fam, DType::kF32).config().embedding_scale,
                  static_cast<float>(std::sqrt(3584.0)));
  EXPECT_DOUBLE_EQ(c->attn_scale, 1.0 / 16);
  EXPECT_FLOAT_EQ(c->attn_softcap, 50);
  EXPECT_FLOAT_EQ(c->final_softcap, 30);
  EXPECT_TRUE(c->tie_word_embeddings);
  EXPECT_EQ(c->sliding_window_of(0), 4096);
  EXPECT_EQ(c->sliding_window_of(1), 0);
  EXPECT_EQ(c->sliding_window_of(2), 4096);
  j["layer_types"] = {"full_attention", "sliding_attention", "full_attention", "full_attention"};
  auto typed = parse(j);
  ASSERT_TRUE(typed.ok());
  EXPECT_EQ(typed->sliding_window_of(0), 0);
  EXPECT_EQ(typed->sliding_window_of(1), 4096);
  j["layer_types"] = {"full_attention"};
  EXPECT_FALSE(parse(j).ok()) << "layer_types must cover every layer";
  j.erase("layer_types");
  j["hidden_activation"] = "gelu";
  auto act = parse(j);
  ASSERT_FALSE(act.ok());
  EXPECT_NE(act.error().message.find("activation"), std::string::npos);
}

TEST(FamilyConfig, GrokMultipliersRouterAndRope) {
  Json j = base("Grok1ForCausalLM", "git");
  j.update({{"num_key_value_heads", 2},
            {"head_dim", 32},
            {"intermediate_size", 128},
            {"moe_intermediate_size", 96},
            {"num_local_experts", 8},
            {"num_experts_per_tok", 2},
            {"residual_moe", true},
            {"embedding_multiplier_scale", 8.0},
            {"output_multiplier_scale", 0.5},
            {"final_logit_softcapping", 50},
            {"attn_temperature_len", 1024},
            {"rope_theta", 208533496.7},
            {"rope_type", "original"}});
  auto c = parse(j);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->num_experts, 8);
  EXPECT_FALSE(c->norm_topk_prob);
  EXPECT_TRUE(c->residual_moe);
  EXPECT_FLOAT_EQ(c->embedding_scale, 8);
  EXPECT_FLOAT_EQ(c->logit_scale, 0.5);
  EXPECT_FLOAT_EQ(c->attn_softcap, 30) << "SGLang's default";
  EXPECT_FLOAT_EQ(c->router_softcap, 30);
  EXPECT_EQ(c->attn_temperature_len, 1024);
  EXPECT_DOUBLE_EQ(c->rope.theta, 208533496) << "int(rope_theta)";
  auto o = family_options(*c);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->activation, Activation::kGeluTanh);
  EXPECT_EQ(o->names.expert_gate, "w1.weight");
  j["rope_type"] = "yarn";
  EXPECT_FALSE(parse(j).ok());
}

TEST(FamilyConfig, BailingSharedExpertsDenseLayersAndAliases) {
  Json j = base("BailingMoeForCausalLM", "bailing_moe");
  j.update({{"num_key_value_heads", 2},
            {"intermediate_size", 128},
            {"moe_intermediate_size", 96},
            {"n_routed_experts", 8},
            {"n_shared_experts", 2},
            {"num_experts_per_tok", 1},
            {"first_k_dense_replace", 1}});
  auto c = parse(j);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->num_experts, 8);
  EXPECT_EQ(c->shared_expert_intermediate_size, 192);
  EXPECT_FALSE(c->norm_topk_prob) << "renormalised only when k > 1";
  EXPECT_FALSE(c->is_moe_layer(0));
  EXPECT_TRUE(c->is_moe_layer(1));
  EXPECT_DOUBLE_EQ(c->rms_norm_eps, 1e-5);
  auto o = family_options(*c);
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->o_bias) << "use_bias defaults to true";
  EXPECT_FALSE(o->qkv_bias);
  EXPECT_EQ(o->shared_expert, SharedExpert::kUngated);
}

// norm_head: every hidden column of the loaded LM head has unit L2 norm over the vocabulary.
TEST(FamilyConfig, BailingNormHeadNormalisesLmHeadColumns) {
  const std::string src = testing::model_dir("tiny-bailing-moe");
  if (src.empty()) GTEST_SKIP() << "../shared not found";
  const std::string dir = ::testing::TempDir() + "sglcpp_bailing_norm_head";
  fs::remove_all(dir);
  fs::create_directories(dir);
  Json cfg = Json::parse(std::ifstream(src + "/config.json"));
  cfg["norm_head"] = true;
  std::ofstream(dir + "/config.json") << cfg.dump();
  fs::create_symlink(src + "/model.safetensors", dir + "/model.safetensors");
  auto c = load_model_config(dir);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->norm_head);
  auto o = family_options(*c);
  ASSERT_TRUE(o.ok());
  DecoderModel model(*c, *o, DType::kF32);
  model.allocate();
  auto files = WeightFiles::open_dir(dir);
  ASSERT_TRUE(files.ok()) << files.error().message;
  ASSERT_TRUE(model.load(*files).ok());
  std::vector<uint16_t> scratch;
  const auto* w = static_cast<const float*>(model.lm_head_weight().row_major_data(scratch));
  const int64_t v = c->vocab_size, h = c->hidden_size;
  for (int64_t j = 0; j < h; ++j) {
    double sq = 0;
    for (int64_t r = 0; r < v; ++r) sq += static_cast<double>(w[r * h + j]) * w[r * h + j];
    ASSERT_NEAR(std::sqrt(sq), 1.0, 1e-4) << "column " << j;
  }
}

}  // namespace
}  // namespace sgl::engine
