#include "membw.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <chrono>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace sgl::bench {

ReadBandwidthProbe::ReadBandwidthProbe(int64_t bytes)
    : words_(bytes / 8),
      // Uninitialised, then first-touched in parallel so the pages spread over the threads' nodes
      // (a zero-filling std::vector would touch them all from this thread first).
      buf_(std::make_unique_for_overwrite<uint64_t[]>(static_cast<size_t>(words_))) {
  uint64_t* buf = buf_.get();
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, words_), [&](const tbb::blocked_range<int64_t>& r) {
    for (int64_t i = r.begin(); i < r.end(); ++i) buf[i] = static_cast<uint64_t>(i);
  });
}

double ReadBandwidthProbe::measure(int reps) const {
  const uint64_t* buf = buf_.get();
  double best = 0;
  volatile uint64_t sink = 0;  // keeps the reduction from being optimised away
  for (int rep = 0; rep < reps; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    uint64_t x = tbb::parallel_reduce(
        tbb::blocked_range<int64_t>(0, words_, 1 << 16), uint64_t{0},
        [&](const tbb::blocked_range<int64_t>& r, uint64_t acc) {
          int64_t i = r.begin();
#if defined(__AVX512F__)
          __m512i a = _mm512_setzero_si512();
          for (; i + 8 <= r.end(); i += 8) a = _mm512_xor_si512(a, _mm512_loadu_si512(buf + i));
          acc ^= static_cast<uint64_t>(_mm512_reduce_or_epi64(a));
#endif
          for (; i < r.end(); ++i) acc ^= buf[i];
          return acc;
        },
        [](uint64_t a, uint64_t b) { return a ^ b; });
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    sink = sink ^ x;
    best = std::max(best, static_cast<double>(words_ * 8) / s);
  }
  return best;
}

}  // namespace sgl::bench
