// A Prometheus-style cumulative histogram that any thread may observe without a lock: the
// scheduler thread observes queue times while reactor threads observe token latencies, and the
// /metrics page reads a snapshot of each.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace sgl {

class AtomicHistogram {
 public:
  explicit AtomicHistogram(std::vector<double> bounds = {});

  // Replaces the bounds (e.g. --bucket-* flags) before any thread observes: counts restart at zero.
  void set_bounds(std::vector<double> bounds);
  const std::vector<double>& bounds() const { return bounds_; }

  void observe(double v) { observe_n(v, 1, v); }
  // `count` observations that all fall in v's bucket, adding `sum` to the sum. SGLang observes a
  // chunk of n tokens that arrived after a gap g as n inter-token latencies of g/n summing to g.
  void observe_n(double v, uint64_t count, double sum);

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf (== count)
    double sum = 0;
    uint64_t count = 0;
  };
  // WHY no lock: a scrape may see _sum a moment behind the buckets, which Prometheus tolerates;
  // the +Inf bucket and _count are the same number, so they always agree.
  Snapshot snapshot() const;

 private:
  std::vector<double> bounds_;                       // ascending upper bounds (le, inclusive)
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1 buckets, not cumulative
  std::atomic<double> sum_{0};
};

// prometheus_client's exponential buckets as SGLang builds them: start * factor^i, i < count.
std::vector<double> exponential_buckets(double start, double factor, int count);

}  // namespace sgl
