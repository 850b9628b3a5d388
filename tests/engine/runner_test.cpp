// CpuModelRunner behaviour beyond the numerics: hidden-state capture, placeholder ids resolved from
// the request-slot token table, logits only for the rows asked for, idle memory handed back, and
// input validation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>

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

// The logits of kPrompt's last position, prefilled from an empty cache.
std::vector<float> prompt_logits(ModelRunner& r) {
  SlotPool pool(r.kv_num_slots(), 16);
  Request req;
  StepInput in;
  in.return_logits = true;
  add_chunk(in, req, kPrompt, pool, false);
  auto out = r.step(in);
  EXPECT_TRUE(out.ok()) << out.error().message;
  return out.ok() ? out->logits : std::vector<float>{};
}

TEST(WeightSwap, DummyStartThenRealWeightsMatchesADirectLoad) {
  // The mission's seed-004 path: serve on dummy weights, then load the real checkpoint in place.
  std::string dir;
  auto direct = tiny_qwen3(&dir);
  if (dir.empty()) GTEST_SKIP() << "../shared not found: tiny models are not available here";
  ASSERT_NE(direct, nullptr);
  auto swapped = testing::make_runner(dir, "float32", 1024, 16, "dummy");
  ASSERT_NE(swapped, nullptr);
  const auto want = prompt_logits(*direct);
  EXPECT_NE(prompt_logits(*swapped), want) << "dummy weights are not the checkpoint";
  ASSERT_TRUE(swapped->load_weights_from_disk(dir).ok());
  EXPECT_EQ(prompt_logits(*swapped), want) << "after the swap: bitwise the directly loaded model";
}

TEST(WeightRelease, ResumeReloadsTheWeightsLastLoaded) {
  // /release_memory_occupation {"tags": ["weights"]} then /resume_memory_occupation: dummy weights
  // come back bitwise (same seed), and after a swap the swapped checkpoint comes back, not the
  // first weights. Nothing runs in between.
  std::string dir;
  auto direct = tiny_qwen3(&dir);
  if (dir.empty()) GTEST_SKIP() << "../shared not found: tiny models are not available here";
  ASSERT_NE(direct, nullptr);
  auto runner = testing::make_runner(dir, "float32", 1024, 16, "dummy");
  ASSERT_NE(runner, nullptr);
  ModelRunner& r = *runner;
  const auto dummy = prompt_logits(r);
  ASSERT_FALSE(dummy.empty());
  ASSERT_TRUE(r.release_weights().ok());
  ASSERT_TRUE(r.release_weights().ok());  // again: a no-op
  {
    SlotPool pool(r.kv_num_slots(), 16);
    Request req;
    StepInput in;
    add_chunk(in, req, kPrompt, pool, false);
    auto out = r.step(in);
    ASSERT_FALSE(out.ok());
    EXPECT_NE(out.error().message.find("weights are released"), std::string::npos) << out.error().message;
    auto swap = r.load_weights_from_disk(dir);
    ASSERT_FALSE(swap.ok());
    EXPECT_NE(swap.error().message.find("resume them first"), std::string::npos);
  }
  ASSERT_TRUE(r.resume_weights().ok());
  EXPECT_EQ(prompt_logits(r), dummy) << "dummy weights come back from their seed";
  ASSERT_TRUE(r.load_weights_from_disk(dir).ok());
  const auto want = prompt_logits(*direct);
  ASSERT_NE(want, dummy);
  EXPECT_EQ(prompt_logits(r), want);
  ASSERT_TRUE(r.release_weights().ok());
  ASSERT_TRUE(r.resume_weights().ok());
  ASSERT_TRUE(r.resume_weights().ok());  // again: a no-op
  EXPECT_EQ(prompt_logits(r), want) << "the swapped checkpoint comes back, not the dummy weights";
}

// The embedding-table rows of `ids` (the checkpoint's bf16 table, widened exactly).
std::shared_ptr<const std::vector<float>> embedding_rows(const std::string& dir,
                                                         const std::vector<int32_t>& ids, int64_t vocab,
                                                         int64_t h) {
  auto files = WeightFiles::open_dir(dir);
  if (!files.ok()) return nullptr;
  auto table = files->get("model.embed_tokens.weight", {vocab, h});
  if (!table.ok() || table->dtype != DType::kBF16) return nullptr;
  auto rows = std::make_shared<std::vector<float>>();
  const auto* w = static_cast<const uint16_t*>(table->data);
  for (int32_t id : ids)
    for (int64_t j = 0; j < h; ++j) rows->push_back(bf16_to_f32(w[id * h + j]));
  return rows;
}

// kPrompt prefilled in chunks [0, split) and [split, end) (one chunk when split is its size), with
// every position's logits; `edit` adjusts each chunk's input before its step. The steps' logits
// and routed experts, concatenated.
StepOutput prefill_in_chunks(ModelRunner& r, size_t split, const std::function<void(StepInput&)>& edit) {
  SlotPool pool(r.kv_num_slots(), 16);
  Request req;
  StepOutput all;
  for (size_t from = 0; from < kPrompt.size(); from = split) {
    const size_t to = from == 0 ? split : kPrompt.size();
    StepInput in;
    in.return_logits = true;
    add_chunk(in, req, std::vector<int32_t>(kPrompt.begin() + from, kPrompt.begin() + to), pool, true);
    edit(in);
    auto out = r.step(in);
    EXPECT_TRUE(out.ok()) << out.error().message;
    if (!out.ok()) break;
    all.logits.insert(all.logits.end(), out->logits.begin(), out->logits.end());
    all.routed_experts.insert(all.routed_experts.end(), out->routed_experts.begin(),
                              out->routed_experts.end());
    if (to == kPrompt.size()) break;
  }
  return all;
}

TEST(InputEmbeds, RowsOfTheEmbeddingTableGiveTheLogitsOfTheIds) {
  // SGLang's input_embeds: the rows replace the looked-up embeddings (the model's embedding scale,
  // Gemma 2's √hidden, applies to them too), whole or split into prefill chunks.
  for (const char* name : {"tiny-qwen3", "tiny-gemma2"}) {
    SCOPED_TRACE(name);
    std::string dir = testing::model_dir(name);
    if (dir.empty()) GTEST_SKIP() << "../shared not found: tiny models are not available here";
    auto runner = testing::make_runner(dir, "float32", 1024, 16);
    ASSERT_NE(runner, nullptr);
    const int64_t h = runner->info().hidden_size;
    auto rows = embedding_rows(dir, kPrompt, runner->info().vocab_size, h);
    ASSERT_TRUE(rows);
    auto run = [&](bool embeds, size_t split) {
      return prefill_in_chunks(*runner, split,
                               [&](StepInput& in) {
                                 if (!embeds) return;
                                 // Placeholder ids (SGLang's 1) where the rows stand in for the prompt.
                                 std::fill(in.batch.input_ids.begin(), in.batch.input_ids.end(), 1);
                                 in.batch.segments.back().input_embeds = rows;
                               })
          .logits;
    };
    const auto want = run(false, kPrompt.size());
    ASSERT_FALSE(want.empty());
    EXPECT_EQ(run(true, kPrompt.size()), want);
    EXPECT_EQ(run(true, 3), want) << "in two chunks (rows from prefix_len on)";
    // Other rows change the answer (the rows are really used).
    auto other = std::make_shared<std::vector<float>>(*rows);
    std::reverse(other->begin(), other->end());
    SlotPool pool(runner->kv_num_slots(), 16);
    Request req;
    StepInput in;
    in.return_logits = true;
    add_chunk(in, req, std::vector<int32_t>(kPrompt.size(), 1), pool, true);
    in.batch.segments.back().input_embeds = other;
    auto out = runner->step(in);
    ASSERT_TRUE(out.ok());
    EXPECT_NE(out->logits, want);
    // Rows that are not whole are refused before the forward.
    auto ragged = std::make_shared<std::vector<float>>(rows->begin(), rows->end() - 1);
    in.batch.segments.back().input_embeds = ragged;
    auto bad = runner->step(in);
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find("whole rows"), std::string::npos);
  }
}

TEST(RoutedExperts, EveryTokenLayerAndSlotOfAMoeModelAndNothingElseChanges) {
  for (const char* name : {"tiny-qwen3-moe", "tiny-qwen3"}) {
    SCOPED_TRACE(name);
    std::string dir = testing::model_dir(name);
    if (dir.empty()) GTEST_SKIP() << "../shared not found: tiny models are not available here";
    auto runner = testing::make_runner(dir, "float32", 1024, 16);
    ASSERT_NE(runner, nullptr);
    const ModelInfo& info = runner->info();
    auto run = [&](bool capture, size_t split) {
      return prefill_in_chunks(*runner, split,
                               [&](StepInput& in) { in.batch.capture_routed_experts = capture; });
    };
    const auto plain = run(false, kPrompt.size());
    const auto captured = run(true, kPrompt.size());
    EXPECT_EQ(captured.logits, plain.logits);
    EXPECT_TRUE(plain.routed_experts.empty());
    if (info.num_experts_per_tok == 0) {
      EXPECT_TRUE(captured.routed_experts.empty()) << "a dense model has no experts to report";
      continue;
    }
    const int L = info.num_layers, K = info.num_experts_per_tok;
    ASSERT_EQ(captured.routed_experts.size(), kPrompt.size() * L * K);
    for (size_t i = 0; i < kPrompt.size() * L; ++i) {
      const int32_t* e = captured.routed_experts.data() + i * K;
      for (int s = 0; s < K; ++s) EXPECT_TRUE(e[s] >= 0 && e[s] < info.num_experts) << e[s];
      EXPECT_NE(e[0], e[1]);
    }
    EXPECT_EQ(run(true, 3).routed_experts, captured.routed_experts) << "chunked prefill routes alike";
  }
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
