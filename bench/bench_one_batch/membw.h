// This machine's memory read bandwidth, measured in the benchmark's own run (the roofline the
// decode step is compared to). Reads a buffer far larger than the last-level cache with all cores.
#pragma once

#include <cstdint>
#include <memory>

namespace sgl::bench {

// Owns the buffer so repeated probes (one next to each benchmark case) do not pay for
// allocating and page-faulting a gigabyte each time.
class ReadBandwidthProbe {
 public:
  explicit ReadBandwidthProbe(int64_t bytes = int64_t{1} << 30);
  // Best of `reps` passes over the buffer, in bytes per second.
  double measure(int reps = 5) const;

 private:
  int64_t words_;
  std::unique_ptr<uint64_t[]> buf_;
};

// One-shot probe: best of `reps` passes over `bytes`, in bytes per second.
inline double measure_read_bandwidth(int64_t bytes = int64_t{1} << 30, int reps = 5) {
  return ReadBandwidthProbe(bytes).measure(reps);
}

}  // namespace sgl::bench
