// /metrics: SGLang's Prometheus metrics (python/sglang/srt/metrics/collector.py) under the same
// names, types, labels and buckets. The server side (SGLang's TokenizerMetricsCollector) is fed
// here by the request path with atomics; the scheduler side is read from the scheduler's stats
// snapshot and histograms when the page is rendered. docs/metrics.md lists every SGLang metric.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "base/histogram.h"
#include "sched/scheduler.h"
#include "server/protocol/prometheus_text.h"

namespace sgl::server {

struct Metrics {
  Metrics();

  // Per request (SGLang's tokenizer side). Prompt tokens and requests count at submission,
  // generated tokens as they stream, the rest when a request finishes.
  std::atomic<int64_t> prompt_tokens{0};
  std::atomic<int64_t> generation_tokens{0};
  std::atomic<int64_t> requests{0};
  std::atomic<int64_t> cached_tokens{0};
  std::atomic<int64_t> so_requests{0};  // finished requests with a json_schema / regex / ebnf / tag
  AtomicHistogram ttft, itl, e2e;
  AtomicHistogram prompt_tokens_hist, generation_tokens_hist;

  // Structured output grammars, as SGLang's grammar manager counts them (one per request).
  std::atomic<int64_t> grammar_total{0};
  std::atomic<int64_t> grammar_cache_hits{0};
  std::atomic<int64_t> grammar_aborted{0};    // the grammar did not convert or compile: refused
  std::atomic<int64_t> grammar_compiling{0};  // requests waiting for their grammar now
  AtomicHistogram grammar_compile_time;

  // Start-up, set once before serving.
  double engine_startup_seconds = 0;
  double engine_load_weights_seconds = 0;
  bool lora_enabled = false;

  // `replicas`: each data-parallel replica's scheduler (one: SGLang's single-scheduler series).
  std::string render(const std::string& model, const std::vector<sched::SchedulerStats>& replicas,
                     const sched::SchedulerHistograms& h) const;
};

}  // namespace sgl::server
