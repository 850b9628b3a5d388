// This machine's memory read bandwidth, measured in the benchmark's own run (the roofline the
// decode step is compared to). Reads a buffer far larger than the last-level cache with all cores.
#pragma once

#include <cstdint>

namespace sgl::bench {

// Best of `reps` passes over `bytes`, in bytes per second.
double measure_read_bandwidth(int64_t bytes = int64_t{1} << 30, int reps = 5);

}  // namespace sgl::bench
