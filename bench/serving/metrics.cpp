#include "bench/serving/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

namespace sgl::bench {

double percentile(std::vector<double> values, double pct) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  double rank = pct / 100.0 * static_cast<double>(values.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(rank));
  size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (values[hi] - values[lo]) * (rank - static_cast<double>(lo));
}

double mean(const std::vector<double>& values) {
  if (values.empty()) return 0.0;
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

double stddev(const std::vector<double>& values) {
  if (values.empty()) return 0.0;
  double m = mean(values), s = 0.0;
  for (double v : values) s += (v - m) * (v - m);
  return std::sqrt(s / static_cast<double>(values.size()));
}

Metrics compute_metrics(const std::vector<RequestOutput>& outputs, const std::vector<int64_t>& retokenized,
                        double duration) {
  Metrics m;
  m.duration = duration;
  std::vector<double> e2e, ttft, tpot, itl;
  std::map<int64_t, int64_t> tokens_per_second;  // second bucket → tokens
  std::vector<std::pair<double, int>> edges;     // (time, +1 start / -1 end)
  for (size_t i = 0; i < outputs.size(); ++i) {
    const auto& o = outputs[i];
    if (!o.success) {
      ++m.failed;
      continue;
    }
    ++m.completed;
    m.total_input += o.prompt_len;
    m.total_output += o.output_len;
    m.total_output_retokenized += i < retokenized.size() ? retokenized[i] : o.output_len;
    m.total_cached += o.cached_tokens;
    e2e.push_back(o.latency * 1000.0);
    ttft.push_back(o.ttft * 1000.0);
    if (o.output_len > 1)
      tpot.push_back((o.latency - o.ttft) / static_cast<double>(o.output_len - 1) * 1000.0);
    for (double g : o.itl) itl.push_back(g * 1000.0);
    for (double t : o.chunk_times) ++tokens_per_second[static_cast<int64_t>(std::floor(t))];
    edges.emplace_back(o.start_time, +1);
    edges.emplace_back(o.start_time + o.latency, -1);
  }
  if (duration > 0) {
    m.request_throughput = static_cast<double>(m.completed) / duration;
    m.input_throughput = static_cast<double>(m.total_input) / duration;
    m.output_throughput = static_cast<double>(m.total_output) / duration;
    m.total_throughput = static_cast<double>(m.total_input + m.total_output) / duration;
    m.concurrency = std::accumulate(e2e.begin(), e2e.end(), 0.0) / 1000.0 / duration;
  }
  m.cache_hit_rate =
      m.total_input > 0 ? static_cast<double>(m.total_cached) / static_cast<double>(m.total_input) : 0.0;
  for (const auto& [sec, n] : tokens_per_second)
    m.max_output_tokens_per_s = std::max(m.max_output_tokens_per_s, static_cast<double>(n));
  // Ends sort before starts at the same instant: back-to-back requests are not concurrent.
  std::sort(edges.begin(), edges.end());
  int64_t live = 0;
  for (const auto& [t, d] : edges) {
    live += d;
    m.max_concurrent_requests = std::max(m.max_concurrent_requests, live);
  }
  m.mean_e2e = mean(e2e), m.median_e2e = percentile(e2e, 50), m.std_e2e = stddev(e2e);
  m.p90_e2e = percentile(e2e, 90), m.p99_e2e = percentile(e2e, 99);
  m.mean_ttft = mean(ttft), m.median_ttft = percentile(ttft, 50), m.std_ttft = stddev(ttft);
  m.p99_ttft = percentile(ttft, 99);
  m.mean_tpot = mean(tpot), m.median_tpot = percentile(tpot, 50), m.std_tpot = stddev(tpot);
  m.p99_tpot = percentile(tpot, 99);
  m.mean_itl = mean(itl), m.median_itl = percentile(itl, 50), m.std_itl = stddev(itl);
  m.p95_itl = percentile(itl, 95), m.p99_itl = percentile(itl, 99);
  m.max_itl = itl.empty() ? 0.0 : *std::max_element(itl.begin(), itl.end());
  return m;
}

std::string summary_line(std::string_view label, std::string_view value) {
  return fmt::format("{:<40} {:<10}\n", label, value);
}

std::string format_summary(const SummaryHeader& h, const Metrics& m) {
  auto f2 = [](double v) { return fmt::format("{:.2f}", v); };
  auto i = [](int64_t v) { return std::to_string(v); };
  std::string s = fmt::format("{:=^50}\n", " Serving Benchmark Result ");
  s += summary_line("Backend:", h.backend);
  s += summary_line("Traffic request rate:", h.request_rate);
  s += summary_line("Max request concurrency:", h.max_concurrency > 0 ? i(h.max_concurrency) : "not set");
  s += summary_line("Successful requests:", i(m.completed));
  s += summary_line("Benchmark duration (s):", f2(m.duration));
  s += summary_line("Total input tokens:", i(m.total_input));
  s += summary_line("Total input text tokens:", i(m.total_input));
  s += summary_line("Total generated tokens:", i(m.total_output));
  s += summary_line("Total generated tokens (retokenized):", i(m.total_output_retokenized));
  s += summary_line("Total cached tokens:", i(m.total_cached));
  s += summary_line("Cache hit rate:", fmt::format("{:.4f}", m.cache_hit_rate));
  s += summary_line("Request throughput (req/s):", f2(m.request_throughput));
  s += summary_line("Input token throughput (tok/s):", f2(m.input_throughput));
  s += summary_line("Output token throughput (tok/s):", f2(m.output_throughput));
  s += summary_line("Peak output token throughput (tok/s):", f2(m.max_output_tokens_per_s));
  s += summary_line("Peak concurrent requests:", i(m.max_concurrent_requests));
  s += summary_line("Total token throughput (tok/s):", f2(m.total_throughput));
  s += summary_line("Concurrency:", f2(m.concurrency));
  if (m.accept_length >= 0) s += summary_line("Accept length:", f2(m.accept_length));
  s += fmt::format("{:-^50}\n", "End-to-End Latency");
  s += summary_line("Mean E2E Latency (ms):", f2(m.mean_e2e));
  s += summary_line("Median E2E Latency (ms):", f2(m.median_e2e));
  s += summary_line("P90 E2E Latency (ms):", f2(m.p90_e2e));
  s += summary_line("P99 E2E Latency (ms):", f2(m.p99_e2e));
  s += fmt::format("{:-^50}\n", "Time to First Token");
  s += summary_line("Mean TTFT (ms):", f2(m.mean_ttft));
  s += summary_line("Median TTFT (ms):", f2(m.median_ttft));
  s += summary_line("P99 TTFT (ms):", f2(m.p99_ttft));
  s += fmt::format("{:-^50}\n", "Time per Output Token (excl. 1st token)");
  s += summary_line("Mean TPOT (ms):", f2(m.mean_tpot));
  s += summary_line("Median TPOT (ms):", f2(m.median_tpot));
  s += summary_line("P99 TPOT (ms):", f2(m.p99_tpot));
  s += fmt::format("{:-^50}\n", "Inter-Token Latency");
  s += summary_line("Mean ITL (ms):", f2(m.mean_itl));
  s += summary_line("Median ITL (ms):", f2(m.median_itl));
  s += summary_line("P95 ITL (ms):", f2(m.p95_itl));
  s += summary_line("P99 ITL (ms):", f2(m.p99_itl));
  s += summary_line("Max ITL (ms):", f2(m.max_itl));
  s += std::string(50, '=') + "\n";
  return s;
}

}  // namespace sgl::bench
