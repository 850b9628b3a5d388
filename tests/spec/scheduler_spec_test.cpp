// EAGLE3 inside the real scheduler: continuous batching with the radix cache and paged KV.
// Greedy speculative outputs equal the plain scheduler's; a stop token inside an accepted run
// ends the output there; max_new_tokens is exact; retraction under KV pressure keeps outputs.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "sched/scheduler.h"
#include "spec_test_util.h"

namespace sgl::sched::spec {
namespace {

struct Outcome {
  std::vector<int32_t> tokens;
  std::optional<FinishReason> finish;
  std::vector<PositionLogprobs> logprobs;
};

struct Server {
  std::unique_ptr<engine::ModelRunner> runner;
  std::unique_ptr<Scheduler> sched;
};

Server start(bool speculative, SpecConfig sc, int page_size, int64_t max_total_tokens = 30000) {
  Server s;
  const std::string target = testing::shared_dir() + "/models/tiny-qwen3";
  engine::EngineConfig ec;
  ec.model_path = target;
  ec.dtype = "bfloat16";
  auto r = engine::create_model_runner(ec);
  if (!r.ok()) return s;
  s.runner = std::move(r).value();
  SchedulerConfig cfg;
  cfg.page_size = page_size;
  cfg.max_total_tokens = max_total_tokens;
  cfg.disable_overlap_schedule = true;
  cfg.chunked_prefill_size = 16;  // long prompts go in chunks: the draft extends chunk by chunk
  if (speculative) {
    auto d = engine::spec::Eagle3Draft::load(testing::shared_dir() + "/models/tiny-qwen3-eagle3", target,
                                             s.runner->info(), engine::DType::kBF16);
    if (!d.ok()) return s;
    cfg.spec_draft = std::move(d).value();
    cfg.spec_num_steps = sc.num_steps;
    cfg.spec_eagle_topk = sc.topk;
    cfg.spec_num_draft_tokens = sc.num_draft_tokens;
  }
  auto sch = Scheduler::create(*s.runner, cfg);
  if (sch.ok()) s.sched = std::move(sch).value();
  return s;
}

std::vector<Outcome> run(Scheduler& sched, const std::vector<GenerateRequest>& reqs) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::shared_ptr<RequestStream>> streams;
  for (const auto& r : reqs) {
    auto st = sched.submit(r, [&] { cv.notify_all(); });
    EXPECT_TRUE(st.ok()) << st.error().message;
    if (!st.ok()) return {};
    streams.push_back(*st);
  }
  std::vector<Outcome> out(reqs.size());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (size_t i = 0; i < streams.size(); ++i) {
    std::vector<OutputChunk> chunks;
    while (!streams[i]->all_finished() && std::chrono::steady_clock::now() < deadline) {
      std::unique_lock lk(mu);
      cv.wait_for(lk, std::chrono::milliseconds(5));
    }
    streams[i]->drain(chunks);
    for (auto& c : chunks) {
      out[i].tokens.insert(out[i].tokens.end(), c.token_ids.begin(), c.token_ids.end());
      out[i].logprobs.insert(out[i].logprobs.end(), c.output_logprobs.begin(), c.output_logprobs.end());
      if (c.finish) out[i].finish = c.finish;
    }
  }
  return out;
}

std::vector<GenerateRequest> greedy_requests(int copies, int64_t max_new) {
  std::vector<GenerateRequest> reqs;
  const auto cases = testing::reference_cases();
  for (int c = 0; c < copies; ++c)
    for (size_t i = 0; i < cases.size(); ++i) {
      GenerateRequest r;
      r.rid = "r" + std::to_string(c) + "-" + std::to_string(i);
      r.input_ids = cases[i].input_ids;
      if (i % 2 == 1)  // longer prompts: chunked prefill, and shared prefixes for the radix cache
        r.input_ids.insert(r.input_ids.end(), cases[0].input_ids.begin(), cases[0].input_ids.end());
      r.sampling.temperature = 0;
      r.stop.max_new_tokens = max_new;
      r.stop.ignore_eos = true;
      reqs.push_back(r);
    }
  return reqs;
}

class SchedulerSpec : public ::testing::TestWithParam<std::tuple<int, int, int, int>> {};

TEST_P(SchedulerSpec, GreedyOutputsEqualPlainScheduler) {
  if (testing::shared_dir().empty())
    GTEST_SKIP() << "../shared not found: tiny models are not available here";
  const auto [steps, topk, draft_tokens, page] = GetParam();
  const SpecConfig sc{steps, topk, draft_tokens};
  const auto reqs = greedy_requests(2, 40);  // 16 concurrent requests
  auto plain = start(false, sc, page);
  auto spec = start(true, sc, page);
  ASSERT_TRUE(plain.sched && spec.sched);
  const auto want = run(*plain.sched, reqs);
  const auto got = run(*spec.sched, reqs);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].tokens, want[i].tokens) << reqs[i].rid;
    ASSERT_TRUE(got[i].finish.has_value());
    EXPECT_EQ(got[i].finish->type, FinishReason::Type::kLength);
  }
  const double acc = spec.sched->stats().avg_spec_accept_length;
  std::printf("scheduler, steps %d topk %d draft %d page %d: avg accept length %.3f\n", steps, topk,
              draft_tokens, page, acc);
  EXPECT_GT(acc, 1.5);
  EXPECT_EQ(plain.sched->stats().avg_spec_accept_length, 0.0);
}

INSTANTIATE_TEST_SUITE_P(Configs, SchedulerSpec,
                         ::testing::Values(std::make_tuple(3, 1, 4, 1), std::make_tuple(3, 4, 8, 16),
                                           std::make_tuple(2, 1, 3, 16)));

TEST(SchedulerSpecStops, StopTokenInsideAcceptedRunAndExactMaxNewTokens) {
  if (testing::shared_dir().empty())
    GTEST_SKIP() << "../shared not found: tiny models are not available here";
  auto spec = start(true, SpecConfig{3, 1, 4}, 1);
  ASSERT_TRUE(spec.sched);
  const auto cases = testing::reference_cases();
  // Case 1 repeats a 7-token cycle that the draft predicts well (accept lengths of 4).
  const auto& c = cases[1];
  GenerateRequest base;
  base.input_ids = c.input_ids;
  base.sampling.temperature = 0;
  base.stop.ignore_eos = true;
  std::vector<GenerateRequest> reqs;
  for (int64_t max_new : {1, 2, 5, 7, 13}) {
    GenerateRequest r = base;
    r.rid = "len" + std::to_string(max_new);
    r.stop.max_new_tokens = max_new;
    reqs.push_back(r);
  }
  // Stop at the first 1815 (the 6th token), which is drafted inside an accepted run.
  GenerateRequest stop = base;
  stop.rid = "stop";
  stop.stop.max_new_tokens = 40;
  stop.stop.stop_token_ids = {1815};
  reqs.push_back(stop);
  const auto got = run(*spec.sched, reqs);
  ASSERT_EQ(got.size(), reqs.size());
  for (size_t i = 0; i + 1 < reqs.size(); ++i) {
    const auto n = static_cast<size_t>(reqs[i].stop.max_new_tokens);
    EXPECT_EQ(got[i].tokens, std::vector<int32_t>(c.greedy_ids.begin(), c.greedy_ids.begin() + n))
        << reqs[i].rid;
    ASSERT_TRUE(got[i].finish);
    EXPECT_EQ(got[i].finish->type, FinishReason::Type::kLength);
  }
  const auto stop_at = std::find(c.greedy_ids.begin(), c.greedy_ids.end(), 1815) - c.greedy_ids.begin();
  EXPECT_EQ(got.back().tokens,
            std::vector<int32_t>(c.greedy_ids.begin(), c.greedy_ids.begin() + stop_at + 1));
  ASSERT_TRUE(got.back().finish);
  EXPECT_EQ(got.back().finish->type, FinishReason::Type::kStop);
  // Everything is freed once the requests are done (KV back to the pool, only the radix cache left).
  for (int i = 0; i < 200 && !spec.sched->stats().idle; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto st = spec.sched->stats();
  EXPECT_EQ(st.num_used_tokens, 0) << "KV still held after the requests finished";
}

TEST(SchedulerSpecStops, RetractionUnderKvPressureKeepsOutputs) {
  if (testing::shared_dir().empty())
    GTEST_SKIP() << "../shared not found: tiny models are not available here";
  const SpecConfig sc{3, 4, 8};
  const auto reqs = greedy_requests(2, 40);
  auto plain = start(false, sc, 1);
  auto spec = start(true, sc, 1, /*max_total_tokens=*/400);  // far less than 16 requests need
  ASSERT_TRUE(plain.sched && spec.sched);
  const auto want = run(*plain.sched, reqs);
  const auto got = run(*spec.sched, reqs);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].tokens, want[i].tokens) << reqs[i].rid;
  EXPECT_GT(spec.sched->stats().num_retractions, 0) << "the pool was meant to be too small";
}

// Aborting requests in the middle of their speculative rounds ends them with an abort finish,
// leaves the others' outputs untouched and gives every KV page back.
TEST(SchedulerSpecStops, AbortsMidRoundFreeTheirKvAndSpareTheOthers) {
  if (testing::shared_dir().empty())
    GTEST_SKIP() << "../shared not found: tiny models are not available here";
  const SpecConfig sc{3, 4, 8};
  auto reqs = greedy_requests(2, 200);  // long enough to still be running when aborted
  auto plain = start(false, sc, 16);
  auto spec = start(true, sc, 16);
  ASSERT_TRUE(plain.sched && spec.sched);
  const auto want = run(*plain.sched, reqs);
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::shared_ptr<RequestStream>> streams;
  for (const auto& r : reqs) {
    auto st = spec.sched->submit(r, [&] { cv.notify_all(); });
    ASSERT_TRUE(st.ok());
    streams.push_back(*st);
  }
  // Wait until every request to be aborted has produced some tokens (it is mid-decode), then abort.
  std::vector<size_t> victims = {1, 4, 9};
  std::vector<std::vector<int32_t>> got(reqs.size());
  std::vector<std::optional<FinishReason>> fin(reqs.size());
  auto pump = [&] {
    for (size_t i = 0; i < streams.size(); ++i) {
      std::vector<OutputChunk> chunks;
      streams[i]->drain(chunks);
      for (auto& c : chunks) {
        got[i].insert(got[i].end(), c.token_ids.begin(), c.token_ids.end());
        if (c.finish) fin[i] = c.finish;
      }
    }
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  auto started = [&] {
    return std::all_of(victims.begin(), victims.end(), [&](size_t v) { return got[v].size() >= 8; });
  };
  while (!started() && std::chrono::steady_clock::now() < deadline) {
    std::unique_lock lk(mu);
    cv.wait_for(lk, std::chrono::milliseconds(2));
    lk.unlock();
    pump();
  }
  ASSERT_TRUE(started()) << "the victims never started decoding";
  for (size_t v : victims) spec.sched->abort(reqs[v].rid);
  auto all_done = [&] {
    return std::all_of(streams.begin(), streams.end(), [](const auto& s) { return s->all_finished(); });
  };
  while (!all_done() && std::chrono::steady_clock::now() < deadline) {
    std::unique_lock lk(mu);
    cv.wait_for(lk, std::chrono::milliseconds(5));
    lk.unlock();
    pump();
  }
  pump();
  for (size_t i = 0; i < reqs.size(); ++i) {
    ASSERT_TRUE(fin[i]) << reqs[i].rid;
    const bool victim = std::find(victims.begin(), victims.end(), i) != victims.end();
    if (victim) {
      EXPECT_EQ(fin[i]->type, FinishReason::Type::kAbort) << reqs[i].rid;
      EXPECT_LT(got[i].size(), want[i].tokens.size()) << reqs[i].rid;
      // What it did emit before the abort is the plain greedy prefix.
      EXPECT_TRUE(std::equal(got[i].begin(), got[i].end(), want[i].tokens.begin())) << reqs[i].rid;
    } else {
      EXPECT_EQ(got[i], want[i].tokens) << reqs[i].rid;
    }
  }
  for (int i = 0; i < 400 && !spec.sched->stats().idle; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(spec.sched->stats().num_used_tokens, 0) << "KV still held after the aborts";
}

// Inside a round every tree node is sampled as plain decoding would sample at that point of the
// path: min_new_tokens masks the stop ids, penalties see the path's tokens, and each emitted token
// carries the logprobs (and top-N) plain decoding reports.
TEST(SchedulerSpecProcessing, MinNewTokensPenaltiesAndLogprobsEqualPlain) {
  if (testing::shared_dir().empty())
    GTEST_SKIP() << "../shared not found: tiny models are not available here";
  const SpecConfig sc{3, 4, 8};
  auto plain = start(false, sc, 16);
  auto spec = start(true, sc, 16);
  ASSERT_TRUE(plain.sched && spec.sched);
  const auto cases = testing::reference_cases();
  std::vector<GenerateRequest> reqs;
  for (size_t i = 0; i < cases.size(); ++i) {
    GenerateRequest base;
    base.input_ids = cases[i].input_ids;
    base.sampling.temperature = 0;
    base.stop.max_new_tokens = 24;
    // min_new_tokens against a stop id the greedy answer emits early (its 3rd token): plain
    // decoding must pick something else for the first 12 outputs, and so must every round.
    GenerateRequest min_new = base;
    min_new.rid = "min" + std::to_string(i);
    min_new.stop.stop_token_ids = {cases[i].greedy_ids.at(2)};
    min_new.stop.min_new_tokens = 12;
    reqs.push_back(min_new);
    GenerateRequest pen = base;
    pen.rid = "pen" + std::to_string(i);
    pen.stop.ignore_eos = true;
    pen.sampling.frequency_penalty = 0.8f;
    pen.sampling.presence_penalty = 0.3f;
    pen.sampling.repetition_penalty = 1.3f;
    reqs.push_back(pen);
    GenerateRequest lp = base;
    lp.rid = "lp" + std::to_string(i);
    lp.stop.ignore_eos = true;
    lp.logprob.return_logprob = true;
    lp.logprob.top_logprobs_num = 3;
    lp.logprob.token_ids_logprob = {cases[i].greedy_ids.at(0)};
    reqs.push_back(lp);
    GenerateRequest plain_greedy = base;  // what the penalised request would say without penalties
    plain_greedy.rid = "g" + std::to_string(i);
    plain_greedy.stop.ignore_eos = true;
    reqs.push_back(plain_greedy);
  }
  const auto want = run(*plain.sched, reqs);
  const auto got = run(*spec.sched, reqs);
  ASSERT_EQ(got.size(), want.size());
  int penalised_differs = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const auto& rid = reqs[i].rid;
    EXPECT_EQ(got[i].tokens, want[i].tokens) << rid;
    ASSERT_TRUE(got[i].finish && want[i].finish) << rid;
    EXPECT_EQ(got[i].finish->type, want[i].finish->type) << rid;
    if (rid.starts_with("min")) {
      const auto stop_id = reqs[i].stop.stop_token_ids[0];
      const auto first =
          std::find(want[i].tokens.begin(), want[i].tokens.end(), stop_id) - want[i].tokens.begin();
      EXPECT_GE(first, 11) << rid << ": the stop id came before min_new_tokens";
    }
    if (rid.starts_with("pen")) penalised_differs += want[i].tokens != want[i + 2].tokens;
    if (!rid.starts_with("lp")) continue;
    ASSERT_EQ(got[i].logprobs.size(), got[i].tokens.size()) << rid;
    ASSERT_EQ(want[i].logprobs.size(), got[i].logprobs.size()) << rid;
    for (size_t k = 0; k < got[i].logprobs.size(); ++k) {
      const auto &a = got[i].logprobs[k], &b = want[i].logprobs[k];
      ASSERT_TRUE(a.logprob && b.logprob) << rid << " token " << k;
      EXPECT_NEAR(*a.logprob, *b.logprob, 1e-4) << rid << " token " << k;
      EXPECT_LT(*a.logprob, 0.0f);
      ASSERT_EQ(a.top.size(), 3u) << rid << " token " << k;
      ASSERT_EQ(b.top.size(), 3u);
      for (size_t t = 0; t < 3; ++t) {
        EXPECT_EQ(a.top[t].token, b.top[t].token) << rid << " token " << k;
        EXPECT_NEAR(a.top[t].logprob, b.top[t].logprob, 1e-4) << rid << " token " << k;
      }
      ASSERT_EQ(a.requested.size(), 1u);
      EXPECT_NEAR(a.requested[0].logprob, b.requested[0].logprob, 1e-4) << rid << " token " << k;
    }
  }
  EXPECT_GT(penalised_differs, 0) << "the penalties never changed a greedy answer: the test proves nothing";
  EXPECT_GT(spec.sched->stats().avg_spec_accept_length, 1.2);
}

}  // namespace
}  // namespace sgl::sched::spec
