#include "harness.h"

#include <gtest/gtest.h>

#include <chrono>

#include "base/shared_dir.h"
#include "engine/engine_config.h"

namespace sgl::sched::testing {

std::unique_ptr<engine::ModelRunner> tiny_qwen3_runner() {
  const std::string shared = sgl::find_shared_dir(SGL_SOURCE_DIR);
  if (shared.empty()) return nullptr;
  engine::EngineConfig ec;
  ec.model_path = shared + "/models/tiny-qwen3";
  ec.dtype = "float32";
  ec.num_threads = 2;
  auto r = engine::create_model_runner(ec);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(r).value() : nullptr;
}

std::function<void()> Collector::notifier() {
  // The callback holds the wake-up state itself: the scheduler thread may still run it while
  // this Collector is being destroyed (its stream's last notify races the test's scope end).
  return [w = wake_] {
    std::lock_guard<std::mutex> lk(w->mu);
    w->woken = true;
    w->cv.notify_one();
  };
}

bool Collector::record(const std::string& rid, int32_t n, Result<std::shared_ptr<RequestStream>> r) {
  if (!r.ok()) {
    errors.push_back(r.error());
    return false;
  }
  results[rid].resize(static_cast<size_t>(n));
  streams_.push_back(std::move(r).value());
  return true;
}

bool Collector::submit(Scheduler& s, GenerateRequest req) {
  const std::string rid = req.rid;
  const int32_t n = req.n;
  return record(rid, n, s.submit(std::move(req), notifier()));
}

bool Collector::submit(DataParallelScheduler& s, GenerateRequest req) {
  const std::string rid = req.rid;
  const int32_t n = req.n;
  return record(rid, n, s.submit(std::move(req), notifier()));
}

void Collector::drain() {
  std::vector<OutputChunk> chunks;
  for (auto& st : streams_) {
    chunks.clear();
    st->drain(chunks);
    auto& outs = results[st->rid()];
    for (auto& c : chunks) {
      auto& o = outs.at(static_cast<size_t>(c.index));
      o.tokens.insert(o.tokens.end(), c.token_ids.begin(), c.token_ids.end());
      o.logprobs.insert(o.logprobs.end(), c.output_logprobs.begin(), c.output_logprobs.end());
      o.input_logprobs.insert(o.input_logprobs.end(), c.input_logprobs.begin(), c.input_logprobs.end());
      o.cached_tokens = c.cached_tokens;
      o.prompt_tokens = c.prompt_tokens;
      o.completion_tokens = c.completion_tokens;
      ++o.num_chunks;
      if (c.finish) o.finish = c.finish;
    }
  }
}

void Collector::wait_all(const std::function<void()>& tick) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    {
      std::unique_lock<std::mutex> lk(wake_->mu);
      wake_->cv.wait_for(lk, std::chrono::milliseconds(2), [&] { return wake_->woken; });
      wake_->woken = false;
    }
    if (tick) tick();
    bool all = true;
    for (auto& st : streams_) all = all && st->all_finished();
    drain();
    if (all) return;
    if (std::chrono::steady_clock::now() > deadline) return;  // the test's asserts will report it
  }
}

GenerateRequest make_request(std::string rid, std::vector<int32_t> prompt, int64_t max_new) {
  GenerateRequest r;
  r.rid = std::move(rid);
  r.input_ids = std::move(prompt);
  r.sampling.temperature = 0.0f;
  r.stop.max_new_tokens = max_new;
  return r;
}

}  // namespace sgl::sched::testing
