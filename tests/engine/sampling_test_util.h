// Helpers for the sampler tests: a fixed small distribution, batches of identical rows, and a
// chi-square statistic against expected probabilities.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "engine/sampling.h"

namespace sgl::engine::sampling_testing {

constexpr int64_t kVocab = 8;
inline const std::vector<double> kProbs = {0.30, 0.25, 0.15, 0.12, 0.08, 0.05, 0.03, 0.02};

inline std::vector<float> log_row(const std::vector<double>& probs) {
  std::vector<float> l;
  for (double p : probs) l.push_back(static_cast<float>(std::log(p)));
  return l;
}

// `n` rows of `row`, all sampled with `p`, steps step0, step0 + 1, ...
inline std::vector<int32_t> draw(Sampler& s, const SamplingParams& p, int n, int64_t step0 = 0,
                                 const std::vector<float>& row = log_row(kProbs)) {
  const int64_t vocab = static_cast<int64_t>(row.size());
  std::vector<float> logits;
  logits.reserve(static_cast<size_t>(n * vocab));
  std::vector<RowSampling> rows(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    logits.insert(logits.end(), row.begin(), row.end());
    rows[i].params = &p;
    rows[i].step = step0 + i;
  }
  auto out = s.sample(logits.data(), vocab, rows);
  std::vector<int32_t> ids;
  for (const auto& r : out) ids.push_back(r.token);
  return ids;
}

// Pearson chi-square of observed token counts against `expected` probabilities (ids with
// expected probability 0 must never appear: they make the statistic infinite).
inline double chi_square(const std::vector<int32_t>& ids, const std::vector<double>& expected) {
  std::vector<double> counts(expected.size());
  for (int32_t id : ids) counts.at(static_cast<size_t>(id)) += 1;
  double chi2 = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    const double e = expected[i] * static_cast<double>(ids.size());
    if (e == 0) {
      if (counts[i] > 0) return INFINITY;
      continue;
    }
    chi2 += (counts[i] - e) * (counts[i] - e) / e;
  }
  return chi2;
}

// p_i^(1/T) renormalised over the ids in [0, keep), zero elsewhere.
inline std::vector<double> tempered(const std::vector<double>& probs, double temperature, size_t keep) {
  std::vector<double> q(probs.size());
  double z = 0;
  for (size_t i = 0; i < keep; ++i) z += q[i] = std::pow(probs[i], 1.0 / temperature);
  for (double& v : q) v /= z;
  return q;
}

// Chi-square critical values at p = 0.001 by degrees of freedom (1..7): a correct sampler fails
// one check in a thousand, and the seeds are fixed, so a pass is reproducible.
inline double chi2_critical(size_t dof) {
  static const double kCrit[] = {0, 10.83, 13.82, 16.27, 18.47, 20.52, 22.46, 24.32};
  return kCrit[dof];
}

}  // namespace sgl::engine::sampling_testing
