#include "membw.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace sgl::bench {

double measure_read_bandwidth(int64_t bytes, int reps) {
  const int64_t n = bytes / 8;
  std::vector<uint64_t> buf(static_cast<size_t>(n));
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, n), [&](const tbb::blocked_range<int64_t>& r) {
    for (int64_t i = r.begin(); i < r.end(); ++i)
      buf[i] = static_cast<uint64_t>(i);  // first touch, in parallel
  });
  double best = 0;
  volatile uint64_t sink = 0;
  for (int rep = 0; rep < reps; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    uint64_t x = tbb::parallel_reduce(
        tbb::blocked_range<int64_t>(0, n, 1 << 16), uint64_t{0},
        [&](const tbb::blocked_range<int64_t>& r, uint64_t acc) {
#if defined(__AVX512F__)
          __m512i a = _mm512_setzero_si512();
          int64_t i = r.begin();
          for (; i + 8 <= r.end(); i += 8) a = _mm512_xor_si512(a, _mm512_loadu_si512(buf.data() + i));
          acc ^= static_cast<uint64_t>(_mm512_reduce_or_epi64(a));
          for (; i < r.end(); ++i) acc ^= buf[i];
#else
          for (int64_t i = r.begin(); i < r.end(); ++i) acc ^= buf[i];
#endif
          return acc;
        },
        [](uint64_t a, uint64_t b) { return a ^ b; });
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    sink = sink ^ x;
    best = std::max(best, static_cast<double>(n * 8) / s);
  }
  return best;
}

}  // namespace sgl::bench
