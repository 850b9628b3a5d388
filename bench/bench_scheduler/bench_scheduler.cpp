// Scheduler CPU cost per step: a zero-cost fake runner (no model, no KV) so that every
// microsecond measured is the scheduler's own bookkeeping (batch building, page allocation,
// radix cache, output chunks) plus the worker hand-off. Steady decode with R running requests.
//   build/bin/bench_scheduler --running 1 64 256 1024 --steps 200 --input-len 128
// With --model-path the real CPU engine runs the forwards instead, and the figure of interest
// is the overlap pipeline's idle gap: device time lost between forwards, as a share of the step.
//   build/bin/bench_scheduler --model-path ../shared/models/tiny-qwen3 --running 1 16 64 \
//       --steps 100 --output-len 400 --disable-overlap-schedule-too
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <thread>

#include "engine/engine_config.h"
#include "engine/testing/zero_cost_runner.h"
#include "sched/scheduler.h"

namespace {
using namespace sgl;

std::unique_ptr<engine::ModelRunner> zero_cost_runner() {
  engine::ModelInfo info;
  info.vocab_size = 32000;
  info.context_length = 1 << 20;
  info.kv_bytes_per_token = 1;
  return std::make_unique<engine::ZeroCostRunner>(info, int64_t{1} << 40);
}

struct Case {
  int64_t running = 1;
  int64_t steps = 200;
  double max_seconds = 20.0;
  int page_size = 1;
  bool overlap = true;
  int prompt_len = 128;
  int64_t max_new = 4096;
  int32_t vocab = 32000;
};

void run_case(engine::ModelRunner& runner, const Case& k) {
  const int64_t running = k.running, steps_to_measure = k.steps, max_new = k.max_new;
  const int page_size = k.page_size, prompt_len = k.prompt_len;
  const bool overlap = k.overlap;
  const double max_seconds = k.max_seconds;
  sched::SchedulerConfig cfg;
  cfg.page_size = page_size;
  cfg.max_total_tokens = running * (prompt_len + max_new + 64) + 4096;
  cfg.max_running_requests = running;
  cfg.disable_overlap_schedule = !overlap;
  cfg.decode_log_interval = 1 << 30;
  auto s = sched::Scheduler::create(runner, cfg);
  if (!s.ok()) {
    fmt::print("create failed: {}\n", s.error().message);
    return;
  }
  auto& sch = *s.value();
  std::vector<std::shared_ptr<sched::RequestStream>> streams;
  for (int64_t i = 0; i < running; ++i) {
    sched::GenerateRequest r;
    r.rid = fmt::format("b{}", i);
    // Half the prompt is a shared system prefix so the radix cache has real work.
    for (int j = 0; j < prompt_len; ++j)
      r.input_ids.push_back(
          j < prompt_len / 2 ? 1000 + j : static_cast<int32_t>(2000 + (i * 7919 + j) % (k.vocab - 2000)));
    r.sampling.temperature = 0.0f;
    r.stop.max_new_tokens = max_new;
    r.stop.ignore_eos = true;
    streams.push_back(sch.submit(std::move(r), nullptr).value());
  }
  std::vector<sched::OutputChunk> sink;
  auto drain = [&] {
    for (auto& st : streams) {
      sink.clear();
      st->drain(sink);
    }
  };
  // Steady state: everything admitted and decoding.
  while (sch.stats().num_queue_reqs > 0 || sch.stats().num_running_reqs < running) {
    drain();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // Measure a fixed number of decode steps from here (contexts grow by one token per step).
  const auto s0 = sch.stats();
  const auto t0 = std::chrono::steady_clock::now();
  while (sch.stats().num_steps - s0.num_steps < steps_to_measure &&
         std::chrono::steady_clock::now() - t0 < std::chrono::duration<double>(max_seconds)) {
    drain();  // the server's side of the streams, as in serving
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const auto s1 = sch.stats();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double steps = static_cast<double>(s1.num_steps - s0.num_steps);
  const double cpu = s1.scheduler_cpu_seconds - s0.scheduler_cpu_seconds;
  const double fwd = s1.forward_seconds - s0.forward_seconds;
  const double gap = s1.forward_gap_seconds - s0.forward_gap_seconds;
  fmt::print(
      "running={:5d} page={:3d} overlap={} input={} steps={:6.0f}  scheduler cpu/step={:8.1f} us  "
      "wall/step={:8.1f} us  forward/step={:8.1f} us  idle gap/step={:7.1f} us ({:.1f}% of step){}\n",
      running, page_size, overlap ? "on " : "off", prompt_len, steps, cpu / steps * 1e6, wall / steps * 1e6,
      fwd / steps * 1e6, gap / steps * 1e6, fwd + gap > 0 ? 100.0 * gap / (fwd + gap) : 0.0,
      s1.num_running_reqs == running ? "" : "  (requests finished during the window)");
  sch.shutdown();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Scheduler CPU time per decode step with a zero-cost runner"};
  std::vector<int64_t> running = {1, 64, 256, 1024};
  double seconds = 20.0;
  int64_t steps = 200;
  std::vector<int> pages = {1};
  int prompt_len = 128;
  int64_t max_new = 4096;
  bool serial_too = false;
  std::string model_path;
  int threads = 0;
  app.add_option("--running", running, "Running requests per case");
  app.add_option("--steps", steps, "Decode steps measured per case");
  app.add_option("--max-seconds", seconds, "Time limit per case");
  app.add_option("--page-size", pages, "Page sizes");
  app.add_option("--input-len", prompt_len, "Prompt tokens per request");
  app.add_option("--output-len", max_new, "max_new_tokens per request (steps past it end the requests)");
  app.add_flag("--disable-overlap-schedule-too", serial_too, "Also measure the serial loop");
  app.add_option("--model-path", model_path,
                 "Run a real model on the CPU engine instead of the zero-cost runner");
  app.add_option("--num-threads", threads, "CPU engine threads (0: all cores)");
  CLI11_PARSE(app, argc, argv);
  // A runner's KV pool is allocated once, so every case gets a fresh one.
  auto make_runner = [&]() -> std::unique_ptr<engine::ModelRunner> {
    if (model_path.empty()) return zero_cost_runner();
    engine::EngineConfig ec;
    ec.model_path = model_path;
    ec.num_threads = threads;
    auto r = engine::create_model_runner(ec);
    if (!r.ok()) {
      fmt::print("cannot load {}: {}\n", model_path, r.error().message);
      return nullptr;
    }
    return std::move(r).value();
  };
  Case k;
  k.steps = steps;
  k.max_seconds = seconds;
  k.prompt_len = prompt_len;
  k.max_new = max_new;
  for (int p : pages)
    for (int64_t r : running)
      for (bool overlap : {true, false}) {
        if (!overlap && !serial_too) continue;
        auto runner = make_runner();
        if (!runner) return 1;
        k.vocab = static_cast<int32_t>(runner->info().vocab_size);
        k.page_size = p;
        k.running = r;
        k.overlap = overlap;
        run_case(*runner, k);
      }
  return 0;
}
