// Timing helpers shared by the micro-benchmarks that time single-threaded work.
#pragma once

#include <time.h>

#include <algorithm>
#include <vector>

namespace sgl::bench {

// Thread CPU time in µs: the build machine is shared, so wall time would measure the neighbours.
inline double thread_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace sgl::bench
