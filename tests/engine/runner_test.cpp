// CpuModelRunner behaviour beyond the numerics: hidden-state capture, placeholder ids resolved from
// the request-slot token table, logits only for the rows asked for, idle memory handed back, and
// input validation.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/safetensors.h"
#include "engine_test_util.h"

namespace sgl::engine {
namespace {

using testing::add_chunk;
using testing::Request;
using testing::SlotPool;

const std::vector<int32_t> kPrompt = {9707, 11, 1879, 0, 358, 1079, 264};

std::unique_ptr<ModelRunner> tiny_qwen3(std::string* dir_out = nullptr) {
  std::string dir = testing::model_dir("tiny-qwen3");
  if (dir_out) *dir_out = dir;
  return dir.empty() ? nullptr : testing::make_runner(dir, "float32", 1024, 16);
}

TEST(HiddenStates, CapturedInRequestedOrderAndLastLayerGivesTheLogits) {
  std::string dir;
  auto runner = tiny_qwen3(&dir);
  if (dir.empty()) GTEST_SKIP() << "../shared not found: tiny models are not available here";
  ASSERT_NE(runner, nullptr);
  const int last = runner->info().num_layers - 1;
  const int64_t h = runner->info().hidden_size, vocab = runner->info().vocab_size;
  SlotPool pool(runner->kv_num_slots(), 16);
  Request req;
  StepInput in;
  in.return_logits = true;
  add_chunk(in, req, kPrompt, pool, /*all_logits=*/true);
  in.batch.capture_hidden_layers = {last, 0, last};  // unsorted, with a repeat
  auto out = runner->step(in);
  ASSERT_TRUE(out.ok()) << out.error().message;
  const auto t = static_cast<int64_t>(kPrompt.size());
  ASSERT_EQ(out->hidden_states.size(), 3u);
  for (const auto& hs : out->hidden_states) ASSERT_EQ(static_cast<int64_t>(hs.size()), t * h);
  EXPECT_EQ(out->hidden_states[0], out->hidden_states[2]);
  EXPECT_NE(out->hidden_states[0], out->hidden_states[1]) << "layer 0 and the last layer differ";

  // The last layer's output, through the final RMSNorm and the (tied) LM head, is the logits row.
  auto files = WeightFiles::open_dir(dir);
  ASSERT_TRUE(files.ok()) << files.error().message;
  auto norm = files->get("model.norm.weight", {h});
  auto head = files->get("model.embed_tokens.weight", {vocab, h});
  ASSERT_TRUE(norm.ok() && head.ok());
  ASSERT_EQ(head->dtype, DType::kBF16);
  const auto* nw = static_cast<const uint16_t*>(norm->data);
  const auto* hw = static_cast<const uint16_t*>(head->data);
  for (int64_t row : {int64_t{0}, t - 1}) {
    const float* x = out->hidden_states[0].data() + row * h;
    double ss = 0;
    for (int64_t j = 0; j < h; ++j) ss += static_cast<double>(x[j]) * x[j];
    const double inv = 1.0 / std::sqrt(ss / static_cast<double>(h) + 1e-6);
    for (int32_t tok : {0, 1879, 151935}) {
      double dot = 0;
      for (int64_t j = 0; j < h; ++j)
        dot += x[j] * inv * bf16_to_f32(nw[j]) * bf16_to_f32(hw[static_cast<int64_t>(tok) * h + j]);
      EXPECT_NEAR(out->logits[static_cast<size_t>(row * vocab + tok)], dot, 1e-3)
          << "row " << row << " token " << tok;
    }
  }
}

TEST(HiddenStates, LayerOutOfRangeIsRefused) {
  auto runner = tiny_qwen3();
  if (!runner) GTEST_SKIP() << "../shared not found: tiny models are not available here";
  SlotPool pool(runner->kv_num_slots(), 16);
  Request req;
  StepInput in;
  add_chunk(in, req, kPrompt, pool, false);
  in.batch.capture_hidden_layers = {runner->info().num_layers};
  auto out = runner->step(in);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("layer"), std::string::npos) << out.error().message;
}

TEST(Runner, PlaceholderResolvesToTheTokenTheSlotSampledLast) {
  auto runner = tiny_qwen3();
  if (!runner) GTEST_SKIP() << "../shared not found: tiny models are not available here";
  SlotPool pool(runner->kv_num_slots(), 16);
  // Request in slot 5 prefills and samples greedily; its next step feeds only a placeholder.
  Request a;
  StepInput prefill;
  add_chunk(prefill, a, kPrompt, pool, false, /*req_slot=*/5);
  auto first = runner->step(prefill);
  ASSERT_TRUE(first.ok()) << first.error().message;
  const int32_t sampled = first->rows[0].token;
  StepInput decode;
  decode.return_logits = true;
  add_chunk(decode, a, {placeholder_token(5)}, pool, false, 5);
  auto via_placeholder = runner->step(decode);
  ASSERT_TRUE(via_placeholder.ok()) << via_placeholder.error().message;

  // The same sequence with the sampled id written out gives bitwise the same logits.
  Request b;
  StepInput explicit_in;
  explicit_in.return_logits = true;
  std::vector<int32_t> full = kPrompt;
  full.push_back(sampled);
  add_chunk(explicit_in, b, full, pool, false);
  auto direct = runner->step(explicit_in);
  ASSERT_TRUE(direct.ok()) << direct.error().message;
  EXPECT_EQ(via_placeholder->logits, direct->logits);

  // A slot that never sampled has nothing to resolve to.
  Request c;
  StepInput orphan;
  add_chunk(orphan, c, {placeholder_token(6)}, pool, false);
  auto bad = runner->step(orphan);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("slot 6"), std::string::npos) << bad.error().message;
}

TEST(Runner, LogitsOnlyForRequestedRows) {
  auto runner = tiny_qwen3();
  if (!runner) GTEST_SKIP() << "../shared not found: tiny models are not available here";
  const int64_t vocab = runner->info().vocab_size;
  SlotPool pool(runner->kv_num_slots(), 16);
  Request a, b, c;
  StepInput in;
  in.return_logits = true;
  add_chunk(in, a, kPrompt, pool, /*all_logits=*/true);  // 7 rows
  add_chunk(in, b, {1, 2, 3}, pool, false);              // 1 row
  add_chunk(in, c, {4, 5}, pool, false);                 // none: a non-final chunk
  in.batch.segments.back().logits_start = -1;
  in.sampling.pop_back();
  auto out = runner->step(in);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->rows.size(), 8u);
  EXPECT_EQ(static_cast<int64_t>(out->logits.size()), 8 * vocab);
  // The all-rows segment's last row equals a last-row-only run of the same prompt.
  Request d;
  StepInput single;
  single.return_logits = true;
  add_chunk(single, d, kPrompt, pool, false);
  auto last = runner->step(single);
  ASSERT_TRUE(last.ok());
  EXPECT_TRUE(std::equal(last->logits.begin(), last->logits.end(), out->logits.begin() + 6 * vocab));
}

// The buffers handed back after an idle second (logits, activations) are made again by the next
// step, which computes exactly what it would have with them kept.
TEST(Runner, ReleasingIdleMemoryKeepsTheOutputs) {
  auto runner = tiny_qwen3();
  if (!runner) GTEST_SKIP() << "../shared not found: tiny models are not available here";
  SlotPool pool(runner->kv_num_slots(), 16);
  auto run = [&] {
    Request a, b;
    StepInput in;
    in.return_logits = true;
    add_chunk(in, a, kPrompt, pool, /*all_logits=*/true);
    add_chunk(in, b, {1, 2, 3, 4, 5, 6, 7, 8}, pool, false);
    auto out = runner->step(in);
    EXPECT_TRUE(out.ok()) << out.error().message;
    return out.ok() ? out->logits : std::vector<float>{};
  };
  const auto kept = run();
  ASSERT_FALSE(kept.empty());
  runner->release_idle_memory();
  const auto again = run();
  EXPECT_EQ(again, kept);
  runner->release_idle_memory();
  runner->release_idle_memory();  // twice in a row is harmless
  EXPECT_EQ(run(), kept);
}

TEST(WeightSwap, DummyStartThenRealWeightsMatchesADirectLoad) {
  // The mission's seed-004 path: serve on dummy weights, then load the real checkpoint in place.
  std::string dir;
  auto direct = tiny_qwen3(&dir);
  if (dir.empty()) GTEST_SKIP() << "../shared not found: tiny models are not available here";
  ASSERT_NE(direct, nullptr);
  EngineConfig ec;
  ec.model_path = dir;
  ec.load_format = "dummy";
  ec.dtype = "float32";
  auto swapped = create_model_runner(ec);
  ASSERT_TRUE(swapped.ok()) << swapped.error().message;
  ASSERT_TRUE((*swapped)->init_kv_cache(1024, 16).ok());
  auto logits = [](ModelRunner& r) {
    SlotPool pool(r.kv_num_slots(), 16);
    Request req;
    StepInput in;
    in.return_logits = true;
    add_chunk(in, req, kPrompt, pool, false);
    auto out = r.step(in);
    EXPECT_TRUE(out.ok());
    return out.ok() ? out->logits : std::vector<float>{};
  };
  const auto want = logits(*direct);
  EXPECT_NE(logits(**swapped), want) << "dummy weights are not the checkpoint";
  ASSERT_TRUE((*swapped)->load_weights_from_disk(dir).ok());
  EXPECT_EQ(logits(**swapped), want) << "after the swap: bitwise the directly loaded model";
}

TEST(Runner, InvalidBatchesAreRefusedWithAReason) {
  auto runner = tiny_qwen3();
  if (!runner) GTEST_SKIP() << "../shared not found: tiny models are not available here";
  SlotPool pool(runner->kv_num_slots(), 16);
  auto refused = [&](auto&& edit, const char* needle) {
    Request r;
    StepInput in;
    add_chunk(in, r, {1, 2, 3}, pool, false);
    edit(in);
    auto out = runner->step(in);
    ASSERT_FALSE(out.ok()) << needle;
    EXPECT_NE(out.error().message.find(needle), std::string::npos) << out.error().message;
  };
  refused([&](StepInput& in) { in.batch.input_ids[1] = static_cast<int32_t>(runner->info().vocab_size); },
          "outside the vocabulary");
  refused([&](StepInput& in) { in.batch.kv_slots[0] = static_cast<int32_t>(runner->kv_num_slots()); },
          "out of range");
  refused([](StepInput& in) { in.sampling.clear(); }, "RowSampling");
  refused([](StepInput& in) { in.batch.positions.pop_back(); }, "positions");
}

}  // namespace
}  // namespace sgl::engine
