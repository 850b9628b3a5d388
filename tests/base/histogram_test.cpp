#include "base/histogram.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace sgl {
namespace {

TEST(AtomicHistogram, BucketsAreUpperInclusiveAndCumulative) {
  AtomicHistogram h({1, 0.5, 2});  // sorted on the way in
  ASSERT_EQ(h.bounds(), (std::vector<double>{0.5, 1, 2}));
  for (double v : {0.1, 0.5, 0.7, 1.0, 3.0}) h.observe(v);
  const auto s = h.snapshot();
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{2, 4, 4, 5}));  // le=0.5, 1, 2, +Inf
  EXPECT_EQ(s.count, 5u);
  EXPECT_DOUBLE_EQ(s.sum, 5.3);
}

TEST(AtomicHistogram, ObserveNSpreadsAChunkOverItsTokens) {
  AtomicHistogram h({0.01, 0.1});
  h.observe_n(0.3 / 4, 4, 0.3);  // 4 tokens after a 0.3 s gap: four gaps of 0.075 s
  const auto s = h.snapshot();
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{0, 4, 4}));
  EXPECT_DOUBLE_EQ(s.sum, 0.3);
}

TEST(AtomicHistogram, SetBoundsRestartsAndConcurrentObservationsAllCount) {
  AtomicHistogram h({1});
  h.observe(0.5);
  h.set_bounds({10, 20});
  EXPECT_EQ(h.snapshot().count, 0u);
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) h.observe(15);
    });
  for (auto& t : ts) t.join();
  const auto s = h.snapshot();
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{0, 4000, 4000}));
  EXPECT_DOUBLE_EQ(s.sum, 60000);
}

TEST(ExponentialBuckets, AreSGLangsPerStageBounds) {
  auto b = exponential_buckets(0.001, 1.62, 30);
  ASSERT_EQ(b.size(), 30u);
  EXPECT_DOUBLE_EQ(b[0], 0.001);
  EXPECT_DOUBLE_EQ(b[1], 0.00162);
  EXPECT_NEAR(b[29], 1191.064887146242, 1e-9);
}

}  // namespace
}  // namespace sgl
