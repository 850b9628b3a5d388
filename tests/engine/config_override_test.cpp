// --json-model-override-args: keys replace config.json's before the model is built (SGLang's
// config.update), so the override changes what runs; a malformed override is refused.
#include <gtest/gtest.h>

#include "engine_test_util.h"

namespace sgl::engine {
namespace {

Result<std::unique_ptr<ModelRunner>> with_overrides(const std::string& overrides) {
  EngineConfig cfg;
  cfg.model_path = testing::model_dir("tiny-qwen3");
  cfg.dtype = "float32";
  cfg.json_model_override_args = overrides;
  SGL_ASSIGN_OR_RETURN(auto r, create_model_runner(cfg));
  SGL_TRY(r->init_kv_cache(1024, 16));
  return r;
}

std::vector<float> logits(ModelRunner& runner) {
  testing::SlotPool pool(runner.kv_num_slots(), 16);
  testing::Request req;
  StepInput in;
  in.return_logits = true;
  testing::add_chunk(in, req, {785, 6722, 3283, 315, 9625, 374}, pool, false);
  auto out = runner.step(in);
  EXPECT_TRUE(out.ok());
  return out.ok() ? out->logits : std::vector<float>{};
}

TEST(ConfigOverride, KeysReplaceConfigJsonBeforeTheModelIsBuilt) {
  if (testing::model_dir("tiny-qwen3").empty()) GTEST_SKIP() << "../shared/models not found";
  auto plain = with_overrides("{}");
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  auto two = with_overrides(R"({"num_hidden_layers": 2, "max_position_embeddings": 1000})");
  ASSERT_TRUE(two.ok()) << two.error().message;
  EXPECT_EQ((*two)->info().num_layers, 2);
  EXPECT_EQ((*two)->info().context_length, 1000);
  EXPECT_NE(logits(**plain), logits(**two));
  // tiny-qwen3 keeps its RoPE base in rope_parameters (transformers 5): the whole key is replaced.
  auto theta = with_overrides(R"({"rope_parameters": {"rope_theta": 500.0, "rope_type": "default"}})");
  ASSERT_TRUE(theta.ok()) << theta.error().message;
  EXPECT_NE(logits(**plain), logits(**theta));
  auto bad = with_overrides("[1, 2]");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("--json-model-override-args must be a JSON object"), std::string::npos);
}

}  // namespace
}  // namespace sgl::engine
