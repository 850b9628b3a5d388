#include "bench/serving/metrics.h"

#include <gtest/gtest.h>

namespace sgl::bench {
namespace {

TEST(BenchMetrics, PercentileMatchesNumpyLinear) {
  // numpy.percentile([1, 2, 3, 4], [50, 90, 99]) = 2.5, 3.7, 3.97
  EXPECT_DOUBLE_EQ(percentile({4, 1, 3, 2}, 50), 2.5);
  EXPECT_NEAR(percentile({1, 2, 3, 4}, 90), 3.7, 1e-12);
  EXPECT_NEAR(percentile({1, 2, 3, 4}, 99), 3.97, 1e-12);
  EXPECT_EQ(percentile({}, 50), 0.0);
  EXPECT_NEAR(stddev({1, 2, 3, 4}), 1.118033988749895, 1e-12);
}

RequestOutput request(double start, double ttft, double latency, int64_t out_len, int64_t prompt_len) {
  RequestOutput o;
  o.success = true;
  o.start_time = start;
  o.ttft = ttft;
  o.latency = latency;
  o.output_len = out_len;
  o.prompt_len = prompt_len;
  double gap = out_len > 1 ? (latency - ttft) / static_cast<double>(out_len - 1) : 0;
  o.chunk_times.push_back(start + ttft);
  for (int64_t i = 1; i < out_len; ++i) {
    o.itl.push_back(gap);
    o.chunk_times.push_back(start + ttft + gap * static_cast<double>(i));
  }
  return o;
}

TEST(BenchMetrics, DefinitionsAsSGLang) {
  std::vector<RequestOutput> outs = {request(0.0, 0.1, 1.1, 11, 100), request(0.5, 0.2, 2.2, 21, 50)};
  RequestOutput failed;
  failed.error = "boom";
  outs.push_back(failed);
  Metrics m = compute_metrics(outs, {11, 20, 0}, 2.7);
  EXPECT_EQ(m.completed, 2);
  EXPECT_EQ(m.failed, 1);
  EXPECT_EQ(m.total_input, 150);
  EXPECT_EQ(m.total_output, 32);
  EXPECT_EQ(m.total_output_retokenized, 31);
  EXPECT_NEAR(m.request_throughput, 2 / 2.7, 1e-12);
  EXPECT_NEAR(m.output_throughput, 32 / 2.7, 1e-12);
  EXPECT_NEAR(m.mean_ttft, 150.0, 1e-9);
  EXPECT_NEAR(m.mean_tpot, (100.0 + 100.0) / 2, 1e-9);  // (1.1-0.1)/10 and (2.2-0.2)/20 seconds
  EXPECT_EQ(m.max_concurrent_requests, 2);
  EXPECT_NEAR(m.concurrency, (1.1 + 2.2) / 2.7, 1e-12);
  EXPECT_NEAR(m.max_itl, 100.0, 1e-9);
}

TEST(BenchMetrics, BackToBackRequestsAreNotConcurrent) {
  Metrics m = compute_metrics({request(0, 0.1, 1, 2, 1), request(1, 0.1, 1, 2, 1)}, {}, 2);
  EXPECT_EQ(m.max_concurrent_requests, 1);
}

TEST(BenchMetrics, SummaryLinesPaddedLikeSGLang) {
  Metrics m;
  m.completed = 24;
  m.total_output = 768;
  std::string s = format_summary({"sglang", "inf", 8}, m);
  EXPECT_NE(s.find("Successful requests:                     24        \n"), std::string::npos) << s;
  EXPECT_NE(s.find("Total generated tokens:                  768       \n"), std::string::npos);
  EXPECT_NE(s.find("============ Serving Benchmark Result ============\n"), std::string::npos);
  EXPECT_NE(s.find("---------------Time to First Token----------------\n"), std::string::npos);
  EXPECT_NE(s.find("Max request concurrency:                 8"), std::string::npos);
  EXPECT_EQ(s.find("Accept length"), std::string::npos);
}

}  // namespace
}  // namespace sgl::bench
