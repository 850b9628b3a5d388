// Greedy outputs of a request do not depend on the batch it runs in: 8 requests decoded alone, then
// all together (prefills batched, decodes batched through placeholder ids), give the same tokens.
#include <gtest/gtest.h>

#include "../engine/engine_test_util.h"
#include "cuda_test_util.h"

namespace sgl::engine::cuda {
namespace {

using engine::testing::add_chunk;
using engine::testing::Request;
using engine::testing::SlotPool;

constexpr int kRequests = 8, kSteps = 12;

std::vector<int32_t> prompt(int r) {
  std::vector<int32_t> p;
  for (int i = 0; i < 5 + 7 * r; ++i) p.push_back((r * 131 + i * 17 + 3) % 1000 + 10);
  return p;
}

void check_alone_equals_batched(const std::string& dir) {
  auto runner = testing::make_cuda_runner(dir, 16384, 16, /*cuda_graphs=*/false);
  ASSERT_NE(runner, nullptr);
  SlotPool pool(runner->kv_num_slots(), 16);
  std::vector<std::vector<int32_t>> alone(kRequests);
  for (int r = 0; r < kRequests; ++r) {
    Request req;
    StepInput in;
    add_chunk(in, req, prompt(r), pool, false, r);
    for (int s = 0; s < kSteps; ++s) {
      auto out = runner->step(in);
      ASSERT_TRUE(out.ok()) << out.error().message;
      alone[r].push_back(out->rows[0].token);
      in = StepInput{};
      add_chunk(in, req, {alone[r].back()}, pool, false, r);
    }
  }
  std::vector<Request> reqs(kRequests);
  std::vector<std::vector<int32_t>> batched(kRequests);
  StepInput in;
  for (int r = 0; r < kRequests; ++r) add_chunk(in, reqs[r], prompt(r), pool, false, 100 + r);
  for (int s = 0; s < kSteps; ++s) {
    auto out = runner->step(in);
    ASSERT_TRUE(out.ok()) << out.error().message;
    ASSERT_EQ(out->rows.size(), static_cast<size_t>(kRequests));
    in = StepInput{};
    for (int r = 0; r < kRequests; ++r) {
      batched[r].push_back(out->rows[r].token);
      // Placeholder ids: the engine resolves "the token request slot 100 + r sampled last".
      add_chunk(in, reqs[r], {placeholder_token(100 + r)}, pool, false, 100 + r);
    }
  }
  for (int r = 0; r < kRequests; ++r) EXPECT_EQ(batched[r], alone[r]) << "request " << r;
}

TEST(CudaBatchInvariance, GreedyAloneEqualsBatched) {
  SGL_SKIP_WITHOUT_GPU();
  const std::string dir = testing::first_model({"tiny-qwen3", "tiny-qwen2", "tiny-llama"});
  if (dir.empty()) GTEST_SKIP() << "no tiny dense model under ../shared (or SGL_SHARED_DIR)";
  check_alone_equals_batched(dir);
}

// Gemma 2's blocks (sliding window 16 shorter than most prompts here, soft-caps, sandwich norms,
// GeGLU) keep every row's arithmetic its own.
TEST(CudaBatchInvariance, Gemma2GreedyAloneEqualsBatched) {
  SGL_SKIP_WITHOUT_GPU();
  const std::string dir = testing::first_model({"tiny-gemma2"});
  if (dir.empty()) GTEST_SKIP() << "tiny-gemma2 not under ../shared (or SGL_SHARED_DIR)";
  check_alone_equals_batched(dir);
}

// Decode steps replayed from CUDA graphs (batch padded to its bucket: 5 → 8, then 3 → 4 as requests
// finish) give the tokens of the eager path, with logprobs equal within fp32 noise.
void check_graphs_on_off(const std::string& dir) {
  std::vector<std::vector<int32_t>> tokens[2];
  std::vector<std::vector<float>> logprobs[2];
  for (int graphs = 0; graphs < 2; ++graphs) {
    auto runner = testing::make_cuda_runner(dir, 8192, 16, graphs == 1);
    ASSERT_NE(runner, nullptr);
    SlotPool pool(runner->kv_num_slots(), 16);
    const int n = 5;
    std::vector<Request> reqs(n);
    tokens[graphs].assign(n, {});
    logprobs[graphs].assign(n, {});
    StepInput in;
    for (int r = 0; r < n; ++r) add_chunk(in, reqs[r], prompt(r), pool, false, r);
    for (int s = 0; s < kSteps; ++s) {
      auto out = runner->step(in);
      ASSERT_TRUE(out.ok()) << out.error().message;
      const int live = s < kSteps / 2 ? n : 3;  // two requests finish half way
      in = StepInput{};
      for (int r = 0; r < live; ++r) {
        tokens[graphs][r].push_back(out->rows[r].token);
        logprobs[graphs][r].push_back(out->rows[r].logprob);
        add_chunk(in, reqs[r], {placeholder_token(r)}, pool, false, r);
      }
    }
  }
  for (int r = 0; r < 5; ++r) {
    EXPECT_EQ(tokens[1][r], tokens[0][r]) << "request " << r;
    for (size_t i = 0; i < std::min(logprobs[0][r].size(), logprobs[1][r].size()); ++i)
      EXPECT_NEAR(logprobs[1][r][i], logprobs[0][r][i], 1e-3) << "request " << r << " step " << i;
  }
}

TEST(CudaGraphs, GraphsOnOffIdentical) {
  SGL_SKIP_WITHOUT_GPU();
  const std::string dir = testing::first_model({"tiny-qwen3", "tiny-qwen2", "tiny-llama"});
  if (dir.empty()) GTEST_SKIP() << "no tiny dense model under ../shared (or SGL_SHARED_DIR)";
  check_graphs_on_off(dir);
}

// The captured graph holds the families' launches too: the embedding and logit multipliers, the
// sandwich norms, GeGLU, the final soft-cap and each layer's window.
TEST(CudaGraphs, Gemma2GraphsOnOffIdentical) {
  SGL_SKIP_WITHOUT_GPU();
  const std::string dir = testing::first_model({"tiny-gemma2"});
  if (dir.empty()) GTEST_SKIP() << "tiny-gemma2 not under ../shared (or SGL_SHARED_DIR)";
  check_graphs_on_off(dir);
}

TEST(CudaRunner, RefusesWithoutGpuOrBadInput) {
  if (device_count() != 0) {
    const std::string dir = testing::first_model({"tiny-qwen3", "tiny-qwen2", "tiny-llama"});
    if (dir.empty()) GTEST_SKIP() << "no tiny dense model under ../shared (or SGL_SHARED_DIR)";
    auto runner = testing::make_cuda_runner(dir, 256, 16);
    ASSERT_NE(runner, nullptr);
    StepInput in;
    in.batch.input_ids = {1};
    in.batch.positions = {0};
    in.batch.kv_slots = {300};  // outside the pool
    engine::Segment seg;
    seg.new_len = 1;
    seg.logits_start = 0;
    in.batch.segments.push_back(seg);
    in.sampling.resize(1);
    auto out = runner->step(in);
    ASSERT_FALSE(out.ok());
    EXPECT_NE(out.error().message.find("out of range"), std::string::npos);
    return;
  }
  // No GPU: --device cuda is refused with a message, not a crash.
  EngineConfig cfg;
  cfg.model_path = "qwen3-0.6b";
  cfg.load_format = "dummy";
  cfg.device = "cuda";
  auto r = create_model_runner(cfg);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("no CUDA device"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace sgl::engine::cuda
