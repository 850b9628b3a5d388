#include "server/metrics.h"

#include <fmt/format.h>

namespace sgl::server {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {}

void Histogram::set_bounds(std::vector<double> bounds) {
  bounds_ = std::move(bounds);
  counts_ = std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1);
  sum_.store(0);
}

void Histogram::observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

void Histogram::render(std::string& out, const std::string& name, const std::string& model) const {
  out += fmt::format("# TYPE {} histogram\n", name);
  uint64_t cum = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cum += counts_[i].load(std::memory_order_relaxed);
    out += fmt::format("{}_bucket{{le=\"{}\",model_name=\"{}\"}} {}\n", name, bounds_[i], model, cum);
  }
  cum += counts_[bounds_.size()].load(std::memory_order_relaxed);
  out += fmt::format("{}_bucket{{le=\"+Inf\",model_name=\"{}\"}} {}\n", name, model, cum);
  out += fmt::format("{}_sum{{model_name=\"{}\"}} {}\n", name, model, sum_.load(std::memory_order_relaxed));
  out += fmt::format("{}_count{{model_name=\"{}\"}} {}\n", name, model, cum);
}

// SGLang's bucket bounds (seconds).
Metrics::Metrics()
    : ttft({0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5,
            0.75,  1,     2.5,  5,    7.5,  10,   15,   20,  25,   30}),
      itl({0.002, 0.004, 0.006, 0.008, 0.01, 0.015, 0.02, 0.025, 0.03, 0.035,
           0.04,  0.06,  0.08,  0.1,   0.2,  0.4,   0.6,  0.8,   1,    2}),
      e2e({0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512}) {}

std::string Metrics::render(const std::string& model, const sched::SchedulerStats& s) const {
  std::string out;
  auto counter = [&](const char* name, int64_t v) {
    out += fmt::format("# TYPE {} counter\n{}{{model_name=\"{}\"}} {}\n", name, name, model, v);
  };
  auto gauge = [&](const char* name, double v) {
    out += fmt::format("# TYPE {} gauge\n{}{{model_name=\"{}\"}} {}\n", name, name, model, v);
  };
  counter("sglang:prompt_tokens_total", prompt_tokens.load());
  counter("sglang:generation_tokens_total", generation_tokens.load());
  counter("sglang:num_requests_total", requests.load());
  // The scheduler's count: it also sees aborts whose client left before the abort came back.
  counter("sglang:num_aborted_requests_total", s.num_aborted_reqs);
  gauge("sglang:num_running_reqs", double(s.num_running_reqs));
  gauge("sglang:num_queue_reqs", double(s.num_queue_reqs));
  gauge("sglang:num_used_tokens", double(s.num_used_tokens));
  gauge("sglang:token_usage", s.token_usage);
  gauge("sglang:cache_hit_rate", s.cache_hit_rate);
  gauge("sglang:gen_throughput", s.gen_throughput);
  gauge("sglang:num_retractions", double(s.num_retractions));
  // Tokens gained per verify round since start (accepted drafts + the bonus token); 0 without
  // speculative decoding, as SGLang's gauge reads then.
  gauge("sglang:spec_accept_length", s.avg_spec_accept_length);
  ttft.render(out, "sglang:time_to_first_token_seconds", model);
  itl.render(out, "sglang:inter_token_latency_seconds", model);
  e2e.render(out, "sglang:e2e_request_latency_seconds", model);
  return out;
}

}  // namespace sgl::server
