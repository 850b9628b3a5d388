#include "server/metrics.h"

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

std::string Metrics::render(const std::string& model, const sched::SchedulerStats& s,
                            const sched::SchedulerHistograms& h) const {
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

  // Scheduler gauges and counters.
  p.gauge("sglang:num_running_reqs", "The number of running requests.", sch, d(s.num_running_reqs));
  p.gauge("sglang:num_used_tokens", "The number of used tokens.", sch, d(s.num_used_tokens));
  p.gauge("sglang:token_usage", "The token usage.", sch, s.token_usage);
  p.gauge("sglang:decode_sum_seq_lens", "The sum of all sequence lengths in decode.", sch,
          d(s.decode_sum_seq_lens));
  p.gauge("sglang:gen_throughput", "The generation throughput (token/s).", sch, s.gen_throughput);
  p.gauge("sglang:num_queue_reqs", "The number of requests in the waiting queue.", sch, d(s.num_queue_reqs));
  p.gauge("sglang:num_grammar_queue_reqs", "The number of requests in the grammar waiting queue.", sch,
          d(grammar_compiling.load(std::memory_order_relaxed)));
  p.gauge("sglang:cache_hit_rate", "The prefix cache hit rate.", sch, s.cache_hit_rate);
  p.gauge("sglang:max_total_num_tokens", "Maximum total number of tokens in the KV cache pool.", sch,
          d(s.max_total_num_tokens));
  p.gauge("sglang:spec_accept_length", "The average acceptance length of speculative decoding.", sch,
          s.avg_spec_accept_length);
  p.gauge("sglang:spec_accept_rate",
          "The average acceptance rate of speculative decoding (`accepted tokens / total draft tokens` in "
          "batch).",
          sch, s.spec_accept_rate);
  p.gauge("sglang:num_retracted_reqs", "The number of retracted requests.", sch, d(s.num_retracted_reqs));
  p.counter("sglang:num_retracted_requests_total", "Total number of retracted requests.", sch,
            d(s.num_retracted_reqs_total));
  p.counter("sglang:num_retracted_input_tokens_total", "Total number of retracted input tokens.", sch,
            d(s.num_retracted_input_tokens));
  p.counter("sglang:num_retracted_output_tokens_total", "Total number of retracted output tokens.", sch,
            d(s.num_retracted_output_tokens));
  p.gauge("sglang:num_paused_reqs", "The number of paused requests by async weight sync.", sch,
          d(s.num_paused_reqs));
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
  p.counter("sglang:cuda_graph_passes_total", "Total number of forward passes categorized by CUDA graph.",
            with(sch, "mode", "decode_none"), d(s.num_decode_passes));
  if (lora_enabled) {  // as SGLang: only with LoRA on
    p.gauge("sglang:lora_pool_slots_used", "Number of LoRA adapter slots currently occupied in GPU memory.",
            sch, d(s.lora_slots_used));
    p.gauge("sglang:lora_pool_slots_total",
            "Total number of LoRA adapter slots available (max_loras_per_batch).", sch,
            d(s.lora_slots_total));
    p.gauge("sglang:lora_pool_utilization",
            "LoRA pool utilization ratio (used/total). 1.0 means pool is full.", sch,
            s.lora_slots_total > 0 ? d(s.lora_slots_used) / d(s.lora_slots_total) : 0.0);
  }
  p.gauge("sglang:new_token_ratio", "The new token ratio.", sch, s.new_token_ratio);
  p.family("sglang:realtime_tokens_total", "counter",
           "Total number of tokens processed (updated on each log interval). mode: prefill_compute, "
           "prefill_cache, decode.");
  p.sample("sglang:realtime_tokens_total", with(sch, "mode", "prefill_compute"),
           d(s.num_prefill_compute_tokens));
  p.sample("sglang:realtime_tokens_total", with(sch, "mode", "prefill_cache"), d(s.num_prefill_cache_tokens));
  p.sample("sglang:realtime_tokens_total", with(sch, "mode", "decode"), d(s.num_decode_tokens));

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
