// A request's logits are bitwise identical alone, batched with others, chunked, and at any page size.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "engine_test_util.h"

namespace sgl::engine {
namespace {

using testing::add_chunk;
using testing::Request;
using testing::SlotPool;

std::vector<int32_t> random_ids(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (auto& id : ids) id = static_cast<int32_t>(rng() % 150000);
  return ids;
}

// Logits of the last `tail` tokens of `prompt`, computed by feeding it in chunks of `chunk`,
// optionally alongside 7 other requests of other lengths, in a pool of the given page size.
std::vector<float> logits_of(ModelRunner& runner, const std::vector<int32_t>& prompt, int chunk, bool batched,
                             int page_size, int tail) {
  SlotPool pool(runner.kv_num_slots(), page_size);
  Request req;
  std::vector<Request> others(batched ? 7 : 0);
  std::vector<std::vector<int32_t>> other_prompts;
  for (int i = 0; i < static_cast<int>(others.size()); ++i)
    other_prompts.push_back(random_ids(5 + 23 * i, 100 + i));
  std::vector<float> result;
  const int n = static_cast<int>(prompt.size());
  for (int start = 0; start < n; start += chunk) {
    const int end = std::min(n, start + chunk);
    StepInput in;
    in.return_logits = true;
    // Other requests go first and last around ours, with their own chunk sizes.
    for (size_t o = 0; o < others.size(); ++o) {
      if (o == 3) continue;
      auto& op = other_prompts[o];
      const auto done = static_cast<size_t>(others[o].cached);
      if (done >= op.size()) op.push_back(static_cast<int32_t>(done % 1000));  // keep decoding
      const size_t take = std::min<size_t>(op.size() - done, 9);
      add_chunk(in, others[o], std::vector<int32_t>(op.begin() + done, op.begin() + done + take), pool,
                false);
    }
    const size_t ours = in.sampling.size();
    const int rows_wanted = std::max(0, end - std::max(start, n - tail));
    add_chunk(in, req, std::vector<int32_t>(prompt.begin() + start, prompt.begin() + end), pool, false);
    in.batch.segments.back().logits_start = rows_wanted > 0 ? end - start - rows_wanted : -1;
    in.sampling.resize(ours + rows_wanted);
    if (batched) {
      auto& op = other_prompts[3];
      const auto done = static_cast<size_t>(others[3].cached);
      if (done >= op.size()) op.push_back(7);
      add_chunk(in, others[3], std::vector<int32_t>(op.begin() + done, op.end()), pool, true);
    }
    auto out = runner.step(in);
    EXPECT_TRUE(out.ok()) << out.error().message;
    if (!out.ok()) return {};
    const int64_t v = out->vocab_size;
    result.insert(result.end(), out->logits.begin() + static_cast<int64_t>(ours) * v,
                  out->logits.begin() + static_cast<int64_t>(ours + rows_wanted) * v);
  }
  return result;
}

void check_invariance(const std::string& model, const std::string& dtype) {
  std::string dir = testing::model_dir(model);
  if (dir.empty()) GTEST_SKIP() << "../shared not found: tiny models are not available here";
  auto runner = testing::make_runner(dir, dtype, 16384, 64);
  ASSERT_NE(runner, nullptr);
  const auto prompt = random_ids(150, 7);
  const int tail = 3;
  const auto alone = logits_of(*runner, prompt, 150, false, 16, tail);
  ASSERT_EQ(alone.size(), static_cast<size_t>(tail * runner->info().vocab_size));
  struct Variant {
    int chunk;
    bool batched;
    int page;
  };
  for (Variant v :
       {Variant{150, true, 16}, Variant{1, false, 16}, Variant{7, true, 16}, Variant{64, false, 16},
        Variant{150, false, 1}, Variant{64, true, 64}, Variant{7, false, 64}}) {
    auto got = logits_of(*runner, prompt, v.chunk, v.batched, v.page, tail);
    ASSERT_EQ(got.size(), alone.size());
    EXPECT_EQ(std::memcmp(got.data(), alone.data(), alone.size() * sizeof(float)), 0)
        << model << " " << dtype << ": chunk " << v.chunk << (v.batched ? " batched" : " alone") << " page "
        << v.page;
  }
}

TEST(BatchInvariance, Qwen3Float32) { check_invariance("tiny-qwen3", "float32"); }
TEST(BatchInvariance, Qwen3Bfloat16) { check_invariance("tiny-qwen3", "bfloat16"); }
TEST(BatchInvariance, Qwen3MoeFloat32) { check_invariance("tiny-qwen3-moe", "float32"); }
// The seeds' other families: fused q|k|v, shared experts, soft-caps and the xAI temperature (the
// prompt of 150 passes Grok's attn_temperature_len 64), and Gemma 2's sliding window of 16, which
// chunks of 1, 7 and 64 cross in every way.
TEST(BatchInvariance, QwenFloat32) { check_invariance("tiny-qwen", "float32"); }
TEST(BatchInvariance, Qwen2MoeFloat32) { check_invariance("tiny-qwen2-moe", "float32"); }
TEST(BatchInvariance, Gemma2Float32) { check_invariance("tiny-gemma2", "float32"); }
TEST(BatchInvariance, Gemma2Bfloat16) { check_invariance("tiny-gemma2", "bfloat16"); }
TEST(BatchInvariance, Grok2Float32) { check_invariance("tiny-grok2", "float32"); }
TEST(BatchInvariance, BailingMoeFloat32) { check_invariance("tiny-bailing-moe", "float32"); }

}  // namespace
}  // namespace sgl::engine
