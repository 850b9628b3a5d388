#include "server/protocol/prometheus_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

namespace sgl::server {

std::string go_float(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // fmt's shortest round-trip form switches to exponents where Python's repr does (exp < -4 or
  // >= 16); Python then always shows a fraction or an exponent, so "5" becomes "5.0".
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  const size_t dot = s.find('.');
  if (v > 0 && dot != std::string::npos && dot > 6 && s.find('e') == std::string::npos) {
    std::string mantissa = s.substr(0, 1) + "." + s.substr(1, dot - 1) + s.substr(dot + 1);
    while (!mantissa.empty() && (mantissa.back() == '0' || mantissa.back() == '.')) mantissa.pop_back();
    return fmt::format("{}e+0{}", mantissa, dot - 1);
  }
  return s;
}

namespace {

void append_escaped(std::string& out, std::string_view s, bool quote) {
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

}  // namespace

void PromText::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  append_escaped(out_, help, false);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void PromText::sample(std::string_view name, PromLabels labels, double value) {
  std::sort(labels.begin(), labels.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  out_ += name;
  if (!labels.empty()) {
    out_ += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) out_ += ',';
      out_ += labels[i].first;
      out_ += "=\"";
      append_escaped(out_, labels[i].second, true);
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
  out_ += go_float(value);
  out_ += '\n';
}

void PromText::histogram_samples(std::string_view name, const PromLabels& labels,
                                 const std::vector<double>& bounds, const AtomicHistogram::Snapshot& snap) {
  const std::string bucket = std::string(name) + "_bucket";
  for (size_t i = 0; i <= bounds.size() && i < snap.cumulative.size(); ++i) {
    PromLabels l = labels;
    l.emplace_back("le", i < bounds.size() ? go_float(bounds[i]) : "+Inf");
    sample(bucket, std::move(l), static_cast<double>(snap.cumulative[i]));
  }
  sample(std::string(name) + "_count", labels, static_cast<double>(snap.count));
  sample(std::string(name) + "_sum", labels, snap.sum);
}

void PromText::gauge(std::string_view name, std::string_view help, const PromLabels& labels, double v) {
  family(name, "gauge", help);
  sample(name, labels, v);
}

void PromText::counter(std::string_view name, std::string_view help, const PromLabels& labels, double v) {
  family(name, "counter", help);
  sample(name, labels, v);
}

void PromText::histogram(std::string_view name, std::string_view help, const PromLabels& labels,
                         const AtomicHistogram& h) {
  family(name, "histogram", help);
  histogram_samples(name, labels, h.bounds(), h.snapshot());
}

std::vector<double> default_token_buckets() {
  return {100,   300,   500,   700,   1000,  1500,   2000,   3000,   4000,   5000,
          6000,  7000,  8000,  9000,  10000, 12000,  15000,  20000,  22000,  25000,
          30000, 35000, 40000, 66000, 99000, 132000, 300000, 600000, 900000, 1100000};
}

std::string token_buckets(const std::vector<std::string>& rule, std::vector<double>& out) {
  out = default_token_buckets();
  if (rule.empty() || rule[0] == "default") return rule.size() <= 1 ? "" : "'default' takes no values";
  std::vector<double> v;
  for (size_t i = 1; i < rule.size(); ++i) {
    try {
      size_t used = 0;
      v.push_back(std::stod(rule[i], &used));
      if (used != rule[i].size()) throw std::invalid_argument(rule[i]);
    } catch (const std::exception&) {
      return fmt::format("'{}' is not a number", rule[i]);
    }
  }
  std::set<double> b;
  if (rule[0] == "tse") {  // SGLang's two_sides_exponential_buckets(middle, base, count)
    if (v.size() != 3 || v[1] <= 1.0 || v[2] < 1)
      return "'tse' takes <middle> <base> <count> with base > 1 and count >= 1";
    double distance = 1;
    b.insert(v[0]);
    for (int i = 0; i < static_cast<int>(std::ceil(v[2] / 2)); ++i) {
      distance *= v[1];
      b.insert(v[0] + distance);
      b.insert(std::max(0.0, v[0] - distance));
    }
  } else if (rule[0] == "custom" || rule[0] == "customer") {  // "customer": older SGLang's spelling
    if (v.empty()) return "'custom' takes at least one bound";
    b.insert(v.begin(), v.end());
  } else {
    return fmt::format("unknown rule '{}' (default, tse or custom)", rule[0]);
  }
  out.assign(b.begin(), b.end());
  return "";
}

}  // namespace sgl::server
