#include "server/metrics.h"

#include "sched/data_parallel.h"
#include "server/protocol/prometheus_text.h"

namespace sgl::server {

// Bounds from SGLang's TokenizerMetricsCollector and SchedulerMetricsCollector (--bucket-* flags
// replace the first three at start-up).
Metrics::Metrics()
    : ttft({0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400}),
      itl({0.002, 0.004, 0.006, 0.008, 0.010, 0.015, 0.020, 0.025, 0.030, 0.035, 0.040, 0.060,
           0.080, 0.100, 0.200, 0.400, 0.600, 0.800, 1.000, 2.000, 4.000, 6.000, 8.000}),
      e2e({0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400, 600, 1200, 1800, 2400}),
      prompt_tokens_hist(default_token_buckets()),
      generation_tokens_hist(default_token_buckets()),
      grammar_compile_time({0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60, 90, 120, 240}) {}

std::string Metrics::render(const std::string& model, const std::vector<sched::SchedulerStats>& replicas,
                            const sched::SchedulerHistograms& h) const {
  const sched::SchedulerStats s = replicas.size() == 1 ? replicas.front() : sched::sum_stats(replicas);
  // SGLang's label sets: the scheduler's (one scheduler: every rank label is 0, engine_type is
  // "unified" without PD disaggregation) and the tokenizer manager's.
  const PromLabels sch = {{"model_name", model},
                          {"engine_type", "unified"},
                          {"tp_rank", "0"},
                          {"pp_rank", "0"},
                          {"moe_ep_rank", "0"}};
  const PromLabels tok = {{"model_name", model}, {"engine_type", "unified"}};
  auto with = [](PromLabels l, const char* k, const char* v) {
    l.emplace_back(k, v);
    return l;
  };
  auto d = [](int64_t v) { return static_cast<double>(v); };
  PromText p;
  // Data-parallel replicas: each scheduler's series apart, labelled with its dp_rank (as SGLang's
  // DP ranks report); one replica keeps SGLang's single-scheduler label set.
  std::vector<PromLabels> rank_labels;
  for (size_t i = 0; i < replicas.size(); ++i)
    rank_labels.push_back(replicas.size() == 1 ? sch : with(sch, "dp_rank", std::to_string(i).c_str()));
  auto per_replica = [&](std::string_view name, const char* type, std::string_view help, auto value,
                         const char* extra_key = nullptr, const char* extra_value = nullptr,
                         bool family = true) {
    if (family) p.family(name, type, help);
    for (size_t i = 0; i < replicas.size(); ++i)
      p.sample(name, extra_key ? with(rank_labels[i], extra_key, extra_value) : rank_labels[i],
               value(replicas[i]));
  };

  // Scheduler gauges and counters.
  per_replica("sglang:num_running_reqs", "gauge", "The number of running requests.",
              [&](const sched::SchedulerStats& r) { return d(r.num_running_reqs); });
  per_replica("sglang:num_used_tokens", "gauge", "The number of used tokens.",
              [&](const sched::SchedulerStats& r) { return d(r.num_used_tokens); });
  per_replica("sglang:token_usage", "gauge", "The token usage.",
              [&](const sched::SchedulerStats& r) { return r.token_usage; });
  per_replica("sglang:decode_sum_seq_lens", "gauge", "The sum of all sequence lengths in decode.",
              [&](const sched::SchedulerStats& r) { return d(r.decode_sum_seq_lens); });
  per_replica("sglang:gen_throughput", "gauge", "The generation throughput (token/s).",
              [&](const sched::SchedulerStats& r) { return r.gen_throughput; });
  per_replica("sglang:num_queue_reqs", "gauge", "The number of requests in the waiting queue.",
              [&](const sched::SchedulerStats& r) { return d(r.num_queue_reqs); });
  p.gauge("sglang:num_grammar_queue_reqs", "The number of requests in the grammar waiting queue.", sch,
          d(grammar_compiling.load(std::memory_order_relaxed)));
  per_replica("sglang:cache_hit_rate", "gauge", "The prefix cache hit rate.",
              [&](const sched::SchedulerStats& r) { return r.cache_hit_rate; });
  per_replica("sglang:max_total_num_tokens", "gauge", "Maximum total number of tokens in the KV cache pool.",
              [&](const sched::SchedulerStats& r) { return d(r.max_total_num_tokens); });
  per_replica("sglang:spec_accept_length", "gauge", "The average acceptance length of speculative decoding.",
              [&](const sched::SchedulerStats& r) { return r.avg_spec_accept_length; });
  per_replica(
      "sglang:spec_accept_rate", "gauge",
      "The average acceptance rate of speculative decoding (`accepted tokens / total draft tokens` in "
      "batch).",
      [&](const sched::SchedulerStats& r) { return r.spec_accept_rate; });
  per_replica("sglang:num_retracted_reqs", "gauge", "The number of retracted requests.",
              [&](const sched::SchedulerStats& r) { return d(r.num_retracted_reqs); });
  per_replica("sglang:num_retracted_requests_total", "counter", "Total number of retracted requests.",
              [&](const sched::SchedulerStats& r) { return d(r.num_retracted_reqs_total); });
  per_replica("sglang:num_retracted_input_tokens_total", "counter", "Total number of retracted input tokens.",
              [&](const sched::SchedulerStats& r) { return d(r.num_retracted_input_tokens); });
  per_replica("sglang:num_retracted_output_tokens_total", "counter",
              "Total number of retracted output tokens.",
              [&](const sched::SchedulerStats& r) { return d(r.num_retracted_output_tokens); });
  per_replica("sglang:num_paused_reqs", "gauge", "The number of paused requests by async weight sync.",
              [&](const sched::SchedulerStats& r) { return d(r.num_paused_reqs); });
  // SGLang computes it only from its SLO estimate (max_running_requests_under_SLO), which sglcpp
  // does not make; without one SGLang reports 0 as well.
  p.gauge("sglang:utilization", "The utilization.", sch, 0.0);
  p.gauge("sglang:engine_startup_time", "The time taken for the engine to start up.", sch,
          engine_startup_seconds);
  p.gauge("sglang:engine_load_weights_time", "The time taken for the engine to load weights.", sch,
          engine_load_weights_seconds);
  p.histogram("sglang:queue_time_seconds", "Histogram of queueing time in seconds.", sch, h.queue_time);
  p.histogram("sglang:grammar_compilation_time_seconds", "Histogram of grammar compilation time in seconds.",
              sch, grammar_compile_time);
  p.counter("sglang:num_grammar_cache_hit_total", "Number of grammar cache hits.", sch,
            d(grammar_cache_hits.load(std::memory_order_relaxed)));
  p.counter("sglang:num_grammar_aborted_total", "Number of grammar aborted requests.", sch,
            d(grammar_aborted.load(std::memory_order_relaxed)));
  // Compilation has no timeout here (it runs before the request is queued).
  p.counter("sglang:num_grammar_timeout_total", "Number of grammar timeouts.", sch, 0.0);
  p.counter("sglang:num_grammar_total", "Number of the total grammar requests.", sch,
            d(grammar_total.load(std::memory_order_relaxed)));
  p.family("sglang:per_stage_req_latency_seconds", "histogram", "The latency of each stage of requests.");
  for (size_t i = 0; i < h.stage.size(); ++i)
    p.histogram_samples("sglang:per_stage_req_latency_seconds",
                        with(sch, "stage", sched::req_stage_name(static_cast<sched::ReqStage>(i))),
                        h.stage[i].bounds(), h.stage[i].snapshot());
  p.gauge("sglang:is_cuda_graph", "Whether the batch is using CUDA graph.", sch, 0.0);
  per_replica(
      "sglang:cuda_graph_passes_total", "counter",
      "Total number of forward passes categorized by CUDA graph.",
      [&](const sched::SchedulerStats& r) { return d(r.num_decode_passes); }, "mode", "decode_none");
  if (lora_enabled) {  // as SGLang: only with LoRA on
    per_replica("sglang:lora_pool_slots_used", "gauge",
                "Number of LoRA adapter slots currently occupied in GPU memory.",
                [&](const sched::SchedulerStats& r) { return d(r.lora_slots_used); });
    per_replica("sglang:lora_pool_slots_total", "gauge",
                "Total number of LoRA adapter slots available (max_loras_per_batch).",
                [&](const sched::SchedulerStats& r) { return d(r.lora_slots_total); });
    per_replica("sglang:lora_pool_utilization", "gauge",
                "LoRA pool utilization ratio (used/total). 1.0 means pool is full.",
                [&](const sched::SchedulerStats& r) {
                  return r.lora_slots_total > 0 ? d(r.lora_slots_used) / d(r.lora_slots_total) : 0.0;
                });
  }
  per_replica("sglang:new_token_ratio", "gauge", "The new token ratio.",
              [&](const sched::SchedulerStats& r) { return r.new_token_ratio; });
  p.family("sglang:realtime_tokens_total", "counter",
           "Total number of tokens processed (updated on each log interval). mode: prefill_compute, "
           "prefill_cache, decode.");
  for (auto [mode, field] : {std::pair{"prefill_compute", &sched::SchedulerStats::num_prefill_compute_tokens},
                             std::pair{"prefill_cache", &sched::SchedulerStats::num_prefill_cache_tokens},
                             std::pair{"decode", &sched::SchedulerStats::num_decode_tokens}})
    per_replica(
        "sglang:realtime_tokens_total", "counter", "",
        [&](const sched::SchedulerStats& r) { return d(r.*field); }, "mode", mode, false);

  // Tokenizer-side counters and histograms.
  p.counter("sglang:prompt_tokens_total", "Number of prefill tokens processed.", tok,
            d(prompt_tokens.load(std::memory_order_relaxed)));
  p.counter("sglang:generation_tokens_total", "Number of generation tokens processed.", tok,
            d(generation_tokens.load(std::memory_order_relaxed)));
  p.histogram("sglang:prompt_tokens_histogram", "Histogram of prompt token length.", tok, prompt_tokens_hist);
  p.histogram("sglang:generation_tokens_histogram", "Histogram of generation token length.", tok,
              generation_tokens_hist);
  p.counter("sglang:cached_tokens_total", "Number of cached prompt tokens.", tok,
            d(cached_tokens.load(std::memory_order_relaxed)));
  p.counter("sglang:num_requests_total", "Number of requests processed.", tok,
            d(requests.load(std::memory_order_relaxed)));
  p.counter("sglang:num_so_requests_total", "Number of structured output requests processed.", tok,
            d(so_requests.load(std::memory_order_relaxed)));
  // The scheduler's count: it also sees aborts whose client left before the abort came back.
  p.counter("sglang:num_aborted_requests_total", "Number of requests aborted.", tok, d(s.num_aborted_reqs));
  p.histogram("sglang:time_to_first_token_seconds", "Histogram of time to first token in seconds.", tok,
              ttft);
  p.histogram("sglang:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", tok, itl);
  p.histogram("sglang:e2e_request_latency_seconds", "Histogram of End-to-end request latency in seconds", tok,
              e2e);
  p.histogram("sglang:num_retractions", "Histogram of retraction counts per request.", tok,
              h.num_retractions);
  return p.take();
}

}  // namespace sgl::server
