// Server-side counters for /metrics (Prometheus text with SGLang's metric names); scheduler
// gauges are read from its stats snapshot when the page is rendered.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sched/scheduler.h"

namespace sgl::server {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  // Replaces the bounds (--bucket-*), before any observation: the counts start again at zero.
  void set_bounds(std::vector<double> bounds);
  // Appends the _bucket/_sum/_count lines of `name` with the model_name label.
  void render(std::string& out, const std::string& name, const std::string& model) const;

 private:
  // WHY atomics rather than a mutex: every io thread observes every token of every stream. _count
  // is rendered as the +Inf bucket; a scrape may see _sum a moment behind, which Prometheus
  // tolerates.
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1 buckets
  std::atomic<double> sum_{0};
};

struct Metrics {
  Metrics();
  std::atomic<int64_t> prompt_tokens{0};
  std::atomic<int64_t> generation_tokens{0};
  std::atomic<int64_t> requests{0};
  Histogram ttft, itl, e2e;

  std::string render(const std::string& model, const sched::SchedulerStats& s) const;
};

}  // namespace sgl::server
