// Stop conditions, n > 1, logprobs, refusals, flush and the weight-swap hook.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "fake_runner.h"
#include "harness.h"
#include "sched/scheduler.h"
#include "workload.h"

namespace sgl::sched {
namespace {
using testing::Collector;
using testing::fake_reference;
using testing::FakeRunner;
using testing::make_request;

std::string piece(int32_t id) {
  return {static_cast<char>('a' + id % 26), static_cast<char>('a' + id / 26 % 26)};
}
std::string detok(const std::vector<int32_t>& ids, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += piece(ids[i]);
  return s;
}

// Decodes the tail like the server's tokenizer-backed checker would.
class FakeStopChecker : public StopStringChecker {
 public:
  explicit FakeStopChecker(std::string stop) : stop_(std::move(stop)) {}
  std::optional<std::string> check(const std::vector<int32_t>& ids, size_t) override {
    if (detok(ids, ids.size()).find(stop_) != std::string::npos) return stop_;
    return std::nullopt;
  }

 private:
  std::string stop_;
};

std::unique_ptr<Scheduler> make(FakeRunner& r, SchedulerConfig cfg = {}) {
  if (cfg.max_total_tokens == 0) cfg.max_total_tokens = 4096;
  auto s = Scheduler::create(r, cfg);
  EXPECT_TRUE(s.ok());
  return std::move(s).value();
}

std::vector<int32_t> prompt_of(int n, int salt) {
  std::vector<int32_t> p;
  for (int i = 0; i < n; ++i) p.push_back(10 + (i * 37 + salt * 101) % 990);
  return p;
}

TEST(SchedulerStops, StopStringSpanningTokensEndsAtTheCompletingToken) {
  for (bool overlap : {true, false}) {
    FakeRunner runner;
    SchedulerConfig cfg;
    cfg.disable_overlap_schedule = !overlap;
    auto s = make(runner, cfg);
    const auto prompt = prompt_of(30, 1);
    const auto ref = fake_reference(prompt, 20, {0.0f}, {});
    // Last char of token 5 + first char of token 6: only the two tokens together contain it.
    const std::string stop = piece(ref[5]).substr(1) + piece(ref[6]).substr(0, 1);
    size_t expect_n = 0;
    for (size_t n = 1; n <= ref.size(); ++n)
      if (detok(ref, n).find(stop) != std::string::npos) {
        expect_n = n;
        break;
      }
    ASSERT_GT(expect_n, 0u);
    auto req = make_request("s", prompt, 20);
    req.stop.stop_strings = std::make_shared<FakeStopChecker>(stop);
    Collector c;
    ASSERT_TRUE(c.submit(*s, std::move(req)));
    c.wait_all();
    const auto& o = c.results["s"][0];
    ASSERT_TRUE(o.finish);
    EXPECT_EQ(o.finish->type, FinishReason::Type::kStop);
    EXPECT_EQ(o.finish->matched_string.value_or(""), stop);
    EXPECT_EQ(o.tokens, std::vector<int32_t>(ref.begin(), ref.begin() + static_cast<long>(expect_n)));
  }
}

TEST(SchedulerStops, StopTokenIdsAndEosReportTheMatchedId) {
  const auto prompt = prompt_of(12, 2);
  const auto ref = fake_reference(prompt, 10, {0.0f}, {});
  FakeRunner runner({ref[3]});  // the model's EOS is the 4th token it would produce
  auto s = make(runner);
  Collector c;
  ASSERT_TRUE(c.submit(*s, make_request("eos", prompt, 10)));
  auto ign = make_request("ignore", prompt, 10);
  ign.stop.ignore_eos = true;
  ign.stop.stop_token_ids = {ref[5]};
  ASSERT_TRUE(c.submit(*s, std::move(ign)));
  c.wait_all();
  const auto& eos = c.results["eos"][0];
  EXPECT_EQ(eos.tokens, std::vector<int32_t>(ref.begin(), ref.begin() + 4));
  EXPECT_EQ(eos.finish->matched_token.value_or(-1), ref[3]);
  const auto& ig = c.results["ignore"][0];
  EXPECT_EQ(ig.tokens, std::vector<int32_t>(ref.begin(), ref.begin() + 6));
  EXPECT_EQ(ig.finish->matched_token.value_or(-1), ref[5]);
}

TEST(SchedulerStops, MinNewTokensKeepsStopIdsFromBeingSampled) {
  const auto prompt = prompt_of(12, 3);
  const auto ref = fake_reference(prompt, 10, {0.0f}, {});
  FakeRunner runner({ref[1]});
  auto s = make(runner);
  auto req = make_request("m", prompt, 12);
  req.stop.min_new_tokens = 6;
  Collector c;
  ASSERT_TRUE(c.submit(*s, std::move(req)));
  c.wait_all();
  const auto& o = c.results["m"][0];
  EXPECT_EQ(o.tokens, fake_reference(prompt, 12, {0.0f}, {ref[1]}, 6));
  ASSERT_GE(o.tokens.size(), 6u);
  for (size_t i = 0; i < 6; ++i) EXPECT_NE(o.tokens[i], ref[1]) << "stop id sampled before min_new_tokens";
  EXPECT_EQ(o.tokens[1], (ref[1] + 1) % testing::kFakeVocab);
}

TEST(SchedulerStops, MaxNewTokensGivesLengthFinish) {
  FakeRunner runner;
  auto s = make(runner);
  Collector c;
  ASSERT_TRUE(c.submit(*s, make_request("l", prompt_of(5, 4), 7)));
  ASSERT_TRUE(c.submit(*s, make_request("zero", prompt_of(5, 5), 0)));
  c.wait_all();
  EXPECT_EQ(c.results["l"][0].finish->type, FinishReason::Type::kLength);
  EXPECT_EQ(c.results["l"][0].finish->length, 7);
  EXPECT_EQ(c.results["l"][0].tokens.size(), 7u);
  EXPECT_TRUE(c.results["zero"][0].finish.has_value());
}

TEST(SchedulerSampling, NEqualsFourWithSeedIsReproducibleAndSharesThePrompt) {
  std::vector<std::vector<int32_t>> first;
  for (int run = 0; run < 2; ++run) {
    FakeRunner runner;
    auto s = make(runner);
    auto req = make_request("n4", prompt_of(50, 6), 16);
    req.sampling.temperature = 1.0f;
    req.sampling.seed = 1234;
    req.n = 4;
    Collector c;
    ASSERT_TRUE(c.submit(*s, std::move(req)));
    c.wait_all();
    auto& outs = c.results["n4"];
    ASSERT_EQ(outs.size(), 4u);
    std::set<std::vector<int32_t>> distinct;
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(outs[i].finish);
      EXPECT_EQ(outs[i].tokens.size(), 16u);
      engine::SamplingParams p;
      p.temperature = 1.0f;
      p.seed = 1234 + i;
      EXPECT_EQ(outs[i].tokens, fake_reference(prompt_of(50, 6), 16, p, {})) << "sample " << i;
      distinct.insert(outs[i].tokens);
      if (i > 0) EXPECT_GE(outs[i].cached_tokens, 49) << "sample " << i << " did not reuse the prompt's KV";
    }
    EXPECT_EQ(distinct.size(), 4u);
    std::vector<std::vector<int32_t>> toks;
    for (auto& o : outs) toks.push_back(o.tokens);
    if (run == 0)
      first = toks;
    else
      EXPECT_EQ(toks, first);
  }
}

TEST(SchedulerSampling, LogprobsComeWithEveryToken) {
  FakeRunner runner;
  auto s = make(runner);
  auto req = make_request("lp", prompt_of(9, 7), 5);
  req.logprob.return_logprob = true;
  req.logprob.top_logprobs_num = 3;
  Collector c;
  ASSERT_TRUE(c.submit(*s, std::move(req)));
  c.wait_all();
  const auto& o = c.results["lp"][0];
  ASSERT_EQ(o.logprobs.size(), o.tokens.size());
  for (size_t i = 0; i < o.tokens.size(); ++i) {
    EXPECT_EQ(o.logprobs[i].token, o.tokens[i]);
    ASSERT_TRUE(o.logprobs[i].logprob.has_value());
    EXPECT_EQ(o.logprobs[i].top.size(), 3u);
  }
}

TEST(SchedulerSampling, PromptLogprobsSurviveChunkingAndTheCache) {
  std::vector<std::vector<PositionLogprobs>> runs;
  for (int64_t chunk : {-1, 16}) {
    FakeRunner runner;
    SchedulerConfig cfg;
    cfg.chunked_prefill_size = chunk;
    auto s = make(runner, cfg);
    for (int rep = 0; rep < 2; ++rep) {  // the second time the prompt is cached
      auto req = make_request("in" + std::to_string(rep), prompt_of(40, 7), 3);
      req.logprob.return_logprob = true;
      req.logprob.logprob_start_len = 0;
      Collector c;
      ASSERT_TRUE(c.submit(*s, std::move(req)));
      c.wait_all();
      const auto& o = c.results["in" + std::to_string(rep)][0];
      ASSERT_EQ(o.input_logprobs.size(), 40u);
      EXPECT_FALSE(o.input_logprobs[0].logprob.has_value());
      for (size_t i = 1; i < 40; ++i) {
        EXPECT_EQ(o.input_logprobs[i].token, prompt_of(40, 7)[i]);
        EXPECT_TRUE(o.input_logprobs[i].logprob.has_value()) << i;
      }
      runs.push_back(o.input_logprobs);
    }
    auto req = make_request("from10", prompt_of(40, 7), 3);
    req.logprob.return_logprob = true;
    req.logprob.logprob_start_len = 10;
    Collector c;
    ASSERT_TRUE(c.submit(*s, std::move(req)));
    c.wait_all();
    const auto& o = c.results["from10"][0];
    ASSERT_EQ(o.input_logprobs.size(), 30u);
    EXPECT_EQ(o.input_logprobs[0].token, prompt_of(40, 7)[10]);
    EXPECT_EQ(o.input_logprobs[0].logprob, runs.back()[10].logprob);
  }
  for (auto& r : runs)
    for (size_t i = 0; i < r.size(); ++i) EXPECT_EQ(r[i].logprob, runs[0][i].logprob) << "position " << i;
}

// SGLang's limits: prompt + max_new_tokens within the context (the tokenizer manager's 400), a
// prompt within max_req_input_len = min(context − 1, pool − 1) − 5, and max_new_tokens clipped to
// what the pool can back (max_req_len − prompt − 1) rather than refused.
TEST(SchedulerAdmission, RefusesWhatCouldNeverFitAndClipsToThePool) {
  FakeRunner runner({}, /*context_length=*/256);
  SchedulerConfig cfg;
  cfg.max_total_tokens = 128;
  auto s = make(runner, cfg);
  Collector c;
  EXPECT_FALSE(c.submit(*s, make_request("ctx", prompt_of(200, 1), 100)));  // beyond context
  EXPECT_FALSE(c.submit(*s, make_request("input", prompt_of(123, 1), 1)));  // beyond max_req_input_len
  EXPECT_FALSE(c.submit(*s, make_request("empty", {}, 1)));
  ASSERT_EQ(c.errors.size(), 3u);
  for (auto& e : c.errors) EXPECT_EQ(e.code, ErrorCode::kInvalidArgument);
  EXPECT_NE(c.errors[0].message.find("maximum context length"), std::string::npos);
  EXPECT_NE(
      c.errors[1].message.find("Input length (123 tokens) exceeds the maximum allowed length (122 tokens)"),
      std::string::npos)
      << c.errors[1].message;
  EXPECT_TRUE(c.submit(*s, make_request("ok", prompt_of(60, 1), 60)));
  EXPECT_TRUE(c.submit(*s, make_request("pool", prompt_of(100, 1), 100)));  // more than the pool holds
  c.wait_all();
  EXPECT_EQ(c.results["ok"][0].tokens.size(), 60u);
  EXPECT_EQ(c.results["pool"][0].tokens.size(), 26u);  // 127 − 100 − 1
}

TEST(SchedulerControl, FlushIsRefusedWhileRequestsRun) {
  FakeRunner runner;
  auto s = make(runner);
  Collector c;
  auto req = make_request("long", prompt_of(20, 8), 3000);
  req.stop.ignore_eos = true;
  ASSERT_TRUE(c.submit(*s, std::move(req)));
  std::atomic<int> result{-1};
  s->flush_cache([&](bool ok) { result = ok ? 1 : 0; });
  while (result < 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(result, 0);
  s->abort("long");
  c.wait_all();
  EXPECT_EQ(c.results["long"][0].finish->type, FinishReason::Type::kAbort);
  result = -1;
  for (int i = 0; i < 5000 && !s->stats().idle; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  s->flush_cache([&](bool ok) { result = ok ? 1 : 0; });
  while (result < 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(result, 1);
  EXPECT_EQ(s->stats().num_free_pages, s->stats().num_total_pages);
}

TEST(SchedulerControl, ExclusiveTaskRunsAfterInFlightRequestsFinish) {
  FakeRunner runner;
  auto s = make(runner);
  auto st = s->submit(make_request("before", prompt_of(20, 9), 200), nullptr).value();
  std::vector<OutputChunk> chunks;
  // Wait until it is decoding, so that it is in flight when the swap is asked for.
  while (chunks.empty()) {
    st->drain(chunks);
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  std::atomic<bool> finished_at_task{false}, done{false};
  s->run_exclusive(
      [&] {
        finished_at_task = st->all_finished();
        return ok_status();
      },
      [&](Status r) { done = r.ok(); });
  for (int i = 0; i < 5000 && !done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_TRUE(done);
  EXPECT_TRUE(finished_at_task) << "the task ran while a request was still generating";
  st->drain(chunks);
  size_t n = 0;
  for (auto& c : chunks) n += c.token_ids.size();
  EXPECT_EQ(n, fake_reference(prompt_of(20, 9), 200, {0.0f}, {}).size());
}

}  // namespace
}  // namespace sgl::sched
