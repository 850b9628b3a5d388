// The benchmarks' no-op runner: one token per sampled row, inside the vocabulary, never an EOS id,
// different across the rows of a step and across a request's steps.
#include "engine/testing/zero_cost_runner.h"

#include <gtest/gtest.h>

#include <set>

namespace sgl::engine {
namespace {

TEST(ZeroCostRunner, TokensStayInVocabularyAvoidEosAndVary) {
  ModelInfo info;
  info.vocab_size = 120;
  info.eos_token_ids = {100, 101, 7};
  ZeroCostRunner runner(info, 1 << 20, /*first_token=*/95, /*cycle=*/50);
  ASSERT_TRUE(runner.init_kv_cache(64, 16).ok());
  EXPECT_EQ(runner.kv_num_slots(), 64);
  EXPECT_FALSE(runner.init_kv_cache(0, 16).ok());
  StepInput in;
  in.sampling.resize(8);
  std::vector<int32_t> first_rows;
  for (int step = 0; step < 60; ++step) {
    auto out = runner.step(in);
    ASSERT_TRUE(out.ok());
    ASSERT_EQ(out->rows.size(), 8u);
    std::set<int32_t> in_step;
    for (const auto& r : out->rows) {
      EXPECT_GE(r.token, 0);
      EXPECT_LT(r.token, 120);
      EXPECT_NE(r.token, 100);
      EXPECT_NE(r.token, 101);
      EXPECT_NE(r.token, 7);
      in_step.insert(r.token);
    }
    EXPECT_EQ(in_step.size(), 8u) << "rows of one step should differ";
    first_rows.push_back(out->rows[0].token);
  }
  EXPECT_GT(std::set<int32_t>(first_rows.begin(), first_rows.end()).size(), 40u);
}

TEST(ZeroCostRunner, VocabularyOfEosOnlyStillTerminates) {
  ModelInfo info;
  info.vocab_size = 2;
  info.eos_token_ids = {0, 1};
  ZeroCostRunner runner(info, 1 << 20);
  StepInput in;
  in.sampling.resize(1);
  EXPECT_TRUE(runner.step(in).ok());
}

}  // namespace
}  // namespace sgl::engine
