// Prometheus text exposition format 0.0.4, written the way SGLang's prometheus_client writes it
// (labels sorted by name, numbers as Go prints floats: "1.0", "0.1", "1.1e+06"), so that a scrape
// of sglcpp and one of SGLang read alike, down to the `le` label values dashboards match on.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/histogram.h"

namespace sgl::server {

using PromLabels = std::vector<std::pair<std::string, std::string>>;

// prometheus_client's floatToGoString: Python's repr of the float ("5.0", "0.001", "1e-05"), with
// Go's exponent form past six integer digits ("1.1e+06"), "+Inf", "-Inf" and "NaN".
std::string go_float(double v);

// SGLang's default prompt/generation-token histogram bounds, and its --prompt-tokens-buckets /
// --generation-tokens-buckets rules: empty or "default"; "tse <middle> <base> <count>" (two-sided
// exponential around middle); "custom <b1> <b2> ...". Returns "" and sets `out`, or the error.
std::vector<double> default_token_buckets();
std::string token_buckets(const std::vector<std::string>& rule, std::vector<double>& out);

class PromText {
 public:
  // `# HELP` and `# TYPE` of one family; call once per family, before its samples.
  void family(std::string_view name, std::string_view type, std::string_view help);
  // One sample line; the labels are written sorted by name, values escaped.
  void sample(std::string_view name, PromLabels labels, double value);
  // The _bucket (one per bound and +Inf), _sum and _count lines of one histogram series.
  void histogram_samples(std::string_view name, const PromLabels& labels, const std::vector<double>& bounds,
                         const AtomicHistogram::Snapshot& snap);
  // A family with one series: family() then sample() / histogram_samples().
  void gauge(std::string_view name, std::string_view help, const PromLabels& labels, double v);
  void counter(std::string_view name, std::string_view help, const PromLabels& labels, double v);
  void histogram(std::string_view name, std::string_view help, const PromLabels& labels,
                 const AtomicHistogram& h);

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace sgl::server
