// What bench_serving measures per request and the summary it prints: SGLang's bench_serving
// figures (same labels, same definitions) so results compare directly with an SGLang run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sgl::bench {

struct RequestOutput {
  bool success = false;
  std::string error;
  int64_t prompt_len = 0;
  int64_t output_len = 0;  // completion tokens (server-reported when available)
  int64_t cached_tokens = 0;
  int64_t server_prompt_tokens = 0;  // the prompt as the server counted it (0: not reported)
  double ttft = 0.0;                 // s, time to the first streamed content
  double latency = 0.0;             // s, end to end
  double start_time = 0.0;          // s since the benchmark start
  std::vector<double> itl;          // s, gaps between later tokens
  std::vector<double> chunk_times;  // s since benchmark start at which tokens arrived (one per token)
  std::string generated_text;
};

struct Metrics {
  int64_t completed = 0;
  int64_t failed = 0;
  double duration = 0.0;
  int64_t total_input = 0;
  int64_t total_output = 0;
  int64_t total_output_retokenized = 0;
  int64_t total_cached = 0;
  double cache_hit_rate = 0.0;
  double request_throughput = 0.0;
  double input_throughput = 0.0;
  double output_throughput = 0.0;
  double total_throughput = 0.0;
  double max_output_tokens_per_s = 0.0;
  int64_t max_concurrent_requests = 0;
  double concurrency = 0.0;
  double accept_length = -1.0;  // < 0: not reported (no speculative decoding)
  // Milliseconds.
  double mean_e2e = 0, median_e2e = 0, std_e2e = 0, p90_e2e = 0, p99_e2e = 0;
  double mean_ttft = 0, median_ttft = 0, std_ttft = 0, p99_ttft = 0;
  double mean_tpot = 0, median_tpot = 0, std_tpot = 0, p99_tpot = 0;
  double mean_itl = 0, median_itl = 0, std_itl = 0, p95_itl = 0, p99_itl = 0, max_itl = 0;
};

// numpy.percentile's default (linear interpolation); 0 for an empty set.
double percentile(std::vector<double> values, double pct);
double mean(const std::vector<double>& values);
double stddev(const std::vector<double>& values);  // population, as numpy.std

// `retokenized[i]`: the generated text of request i re-encoded (or its output_len without a tokenizer).
Metrics compute_metrics(const std::vector<RequestOutput>& outputs, const std::vector<int64_t>& retokenized,
                        double duration);

struct SummaryHeader {
  std::string backend;
  std::string request_rate;  // as Python prints the float ("inf", "4.0"), or "trace"
  int max_concurrency = 0;   // 0: unbounded ("not set")
};
// The "Serving Benchmark Result" block, lines formatted "{:<40} {:<10}".
std::string format_summary(const SummaryHeader& header, const Metrics& m);

// `"{:<40} {:<10}"` one line.
std::string summary_line(std::string_view label, std::string_view value);

}  // namespace sgl::bench
