// The Prometheus text writer behind /metrics: numbers and label values as SGLang's
// prometheus_client prints them, histogram series, and the token-histogram bucket rules.
#include "server/protocol/prometheus_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace sgl::server {
namespace {

TEST(GoFloat, MatchesPrometheusClientsFloatToGoString) {
  // Expected strings from prometheus_client.utils.floatToGoString (Python's repr, Go's exponents).
  EXPECT_EQ(go_float(0), "0.0");
  EXPECT_EQ(go_float(1), "1.0");
  EXPECT_EQ(go_float(0.1), "0.1");
  EXPECT_EQ(go_float(5.0), "5.0");
  EXPECT_EQ(go_float(300000), "300000.0");
  EXPECT_EQ(go_float(1100000), "1.1e+06");
  EXPECT_EQ(go_float(1000000), "1e+06");
  EXPECT_EQ(go_float(10442762), "1.0442762e+07");
  EXPECT_EQ(go_float(12345678.9), "1.23456789e+07");
  EXPECT_EQ(go_float(9007199254740992.0), "9.007199254740992e+015");
  EXPECT_EQ(go_float(1e-5), "1e-05");
  EXPECT_EQ(go_float(0.001 * 1.62), "0.0016200000000000001");
  EXPECT_EQ(go_float(0.6949833333333332), "0.6949833333333332");
  EXPECT_EQ(go_float(-2.5), "-2.5");
  EXPECT_EQ(go_float(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(go_float(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(go_float(std::nan("")), "NaN");
}

TEST(PromText, FamiliesSortLabelsAndEscapeValues) {
  PromText p;
  p.gauge("sglang:x", "Help with \\ and\nnewline.", {{"model_name", "m\"1"}, {"engine_type", "unified"}}, 3);
  EXPECT_EQ(p.text(),
            "# HELP sglang:x Help with \\\\ and\\nnewline.\n"
            "# TYPE sglang:x gauge\n"
            "sglang:x{engine_type=\"unified\",model_name=\"m\\\"1\"} 3.0\n");
}

TEST(PromText, HistogramHasCumulativeBucketsInfCountAndSum) {
  AtomicHistogram h({0.1, 1, 2.5});
  for (double v : {0.05, 0.1, 0.7, 9.0}) h.observe(v);
  PromText p;
  p.histogram("sglang:h_seconds", "H.", {{"model_name", "m"}}, h);
  EXPECT_EQ(p.text(),
            "# HELP sglang:h_seconds H.\n"
            "# TYPE sglang:h_seconds histogram\n"
            "sglang:h_seconds_bucket{le=\"0.1\",model_name=\"m\"} 2.0\n"
            "sglang:h_seconds_bucket{le=\"1.0\",model_name=\"m\"} 3.0\n"
            "sglang:h_seconds_bucket{le=\"2.5\",model_name=\"m\"} 3.0\n"
            "sglang:h_seconds_bucket{le=\"+Inf\",model_name=\"m\"} 4.0\n"
            "sglang:h_seconds_count{model_name=\"m\"} 4.0\n"
            "sglang:h_seconds_sum{model_name=\"m\"} 9.85\n");
}

TEST(TokenBuckets, DefaultTseAndCustomRulesAsSGLang) {
  std::vector<double> b;
  EXPECT_EQ(token_buckets({}, b), "");
  EXPECT_EQ(b, default_token_buckets());
  EXPECT_EQ(b.size(), 30u);
  EXPECT_EQ(b.back(), 1100000);
  EXPECT_EQ(token_buckets({"default"}, b), "");
  EXPECT_EQ(b, default_token_buckets());
  // SGLang's --prompt-tokens-buckets help: 'tse 1000 2 8' gives these.
  EXPECT_EQ(token_buckets({"tse", "1000", "2", "8"}, b), "");
  EXPECT_EQ(b, (std::vector<double>{984, 992, 996, 998, 1000, 1002, 1004, 1008, 1016}));
  EXPECT_EQ(token_buckets({"custom", "50", "10", "10", "200"}, b), "");
  EXPECT_EQ(b, (std::vector<double>{10, 50, 200}));
  EXPECT_NE(token_buckets({"tse", "1000", "1", "8"}, b), "");  // base must be > 1
  EXPECT_NE(token_buckets({"custom", "ten"}, b), "");
  EXPECT_NE(token_buckets({"linear", "1"}, b), "");
  EXPECT_NE(token_buckets({"custom"}, b), "");
}

}  // namespace
}  // namespace sgl::server
