// Every collective of the Gloo communicator against what it must compute, on 2 and 4 loopback ranks.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <numeric>

#include "dist_test_util.h"

namespace sgl::engine::dist {
namespace {

using std::chrono::milliseconds;
using testing::run_ranks;

class Collectives : public ::testing::TestWithParam<int> {};

TEST_P(Collectives, AllReduceSumsAndEveryRankGetsTheSameBits) {
  const int n = GetParam();
  std::vector<std::vector<float>> got(n);
  run_ranks(n, milliseconds(10000), [&](Communicator& c) {
    std::vector<float> v(1000);
    for (size_t i = 0; i < v.size(); ++i) v[i] = 0.1f * static_cast<float>(c.rank() + 1) + 1e-3f * i;
    ASSERT_TRUE(c.all_reduce_sum(v.data(), v.size()).ok());
    got[c.rank()] = v;
  });
  for (int r = 0; r < n; ++r) {
    ASSERT_EQ(got[r].size(), 1000u);
    for (size_t i = 0; i < 1000; ++i) {
      float want = 0;
      for (int k = 0; k < n; ++k) want += 0.1f * static_cast<float>(k + 1) + 1e-3f * i;
      EXPECT_NEAR(got[r][i], want, 1e-4) << "rank " << r << " element " << i;
      EXPECT_EQ(got[r][i], got[0][i]) << "ranks must agree bitwise";
    }
  }
}

TEST_P(Collectives, GatherScatterBroadcastAllToAll) {
  const int n = GetParam();
  std::atomic<int> checked{0};
  run_ranks(n, milliseconds(10000), [&](Communicator& c) {
    const int r = c.rank();
    // all_gather: rank order.
    std::vector<float> mine = {float(r), float(r) + 0.5f}, all(2 * n);
    ASSERT_TRUE(c.all_gather(mine.data(), 2, all.data()).ok());
    for (int k = 0; k < n; ++k) EXPECT_EQ(all[2 * k], float(k));
    // all_gatherv: rank k contributes k + 1 values equal to k.
    std::vector<size_t> counts(n);
    for (int k = 0; k < n; ++k) counts[k] = k + 1;
    std::vector<float> part(r + 1, float(r)), cat(n * (n + 1) / 2);
    ASSERT_TRUE(c.all_gatherv(part.data(), counts, cat.data()).ok());
    size_t off = 0;
    for (int k = 0; k < n; ++k)
      for (int j = 0; j <= k; ++j) EXPECT_EQ(cat[off++], float(k));
    // reduce_scatter: sums of [0..total) · (rank + 1); rank keeps its part.
    const size_t total = cat.size();
    std::vector<float> data(total), out(counts[r]);
    std::iota(data.begin(), data.end(), 0.0f);
    for (auto& x : data) x *= float(r + 1);
    ASSERT_TRUE(c.reduce_scatter_sum(data.data(), counts, out.data()).ok());
    const size_t my_off = size_t(r) * (r + 1) / 2;
    for (size_t j = 0; j < out.size(); ++j) EXPECT_EQ(out[j], float(my_off + j) * float(n * (n + 1) / 2));
    // broadcast from the last rank.
    std::vector<uint8_t> msg(37, uint8_t(r));
    ASSERT_TRUE(c.broadcast(msg.data(), msg.size(), n - 1).ok());
    EXPECT_EQ(msg[36], uint8_t(n - 1));
    // all_to_all: block k of rank r holds r·100 + k; afterwards block k came from rank k.
    std::vector<float> in(3 * n), got(3 * n);
    for (int k = 0; k < n; ++k)
      for (int j = 0; j < 3; ++j) in[3 * k + j] = float(r * 100 + k);
    ASSERT_TRUE(c.all_to_all(in.data(), 3, got.data()).ok());
    for (int k = 0; k < n; ++k) EXPECT_EQ(got[3 * k], float(k * 100 + r));
    ASSERT_TRUE(c.barrier().ok());
    EXPECT_GE(c.stats().calls, 6);  // reduce_scatter is one all-reduce
    checked++;
  });
  EXPECT_EQ(checked.load(), n);
}

INSTANTIATE_TEST_SUITE_P(Ranks, Collectives, ::testing::Values(2, 4));

TEST(CollectiveFailure, MissingRankTimesOutAndBreaksTheGroup) {
  // Rank 1 never joins the all-reduce: rank 0 must fail within the timeout, not hang, and every
  // later call must fail at once with the same reason.
  std::string first, second;
  double waited = 0;
  run_ranks(2, milliseconds(1000), [&](Communicator& c) {
    if (c.rank() == 1) {
      std::this_thread::sleep_for(milliseconds(2500));
      return;
    }
    float x = 1;
    const auto t0 = std::chrono::steady_clock::now();
    Status st = c.all_reduce_sum(&x, 1);
    waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_FALSE(st.ok());
    first = st.error().message;
    Status again = c.barrier();
    ASSERT_FALSE(again.ok());
    second = again.error().message;
    EXPECT_EQ(c.failure(), first);
  });
  EXPECT_LT(waited, 2.0);
  EXPECT_NE(first.find("all_reduce"), std::string::npos) << first;
  EXPECT_EQ(first, second);
}

}  // namespace
}  // namespace sgl::engine::dist
