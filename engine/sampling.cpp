// Sampling on the host over fp32 logits rows.
//
// Logprobs (chosen token, top-N, requested ids) are taken from the raw logits — the model's own
// distribution at temperature 1, before penalties — so they mean the same thing whatever sampling
// knobs a request sets (what SGLang returns with return_original_logprob; documented in the API).
#include "engine/sampling.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

namespace sgl::engine {

namespace {

uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// A uniform in [0, 1) from a 64-bit state.
double uniform01(uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

float logsumexp(const float* x, int64_t n) {
  float mx = *std::max_element(x, x + n);
  if (!std::isfinite(mx)) return mx;
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::exp(static_cast<double>(x[i] - mx));
  return mx + static_cast<float>(std::log(s));
}

int32_t argmax(const float* x, int64_t n) {
  return static_cast<int32_t>(std::max_element(x, x + n) - x);  // first (lowest id) on ties
}

void apply_penalties(float* x, int64_t vocab, const RowSampling& rs) {
  const SamplingParams& p = *rs.params;
  for (const auto& [id, bias] : p.logit_bias)
    if (id >= 0 && id < vocab) x[id] += bias;
  if (p.repetition_penalty != 1.0f) {
    // HF style over prompt and output tokens: positive logits divided, negative multiplied.
    auto penalise = [&](const std::vector<int32_t>* ids, std::vector<uint8_t>& seen) {
      if (ids == nullptr) return;
      for (int32_t id : *ids) {
        if (id < 0 || id >= vocab || seen[id]) continue;
        seen[id] = 1;
        x[id] = x[id] > 0 ? x[id] / p.repetition_penalty : x[id] * p.repetition_penalty;
      }
    };
    std::vector<uint8_t> seen(static_cast<size_t>(vocab), 0);
    penalise(rs.prompt_ids, seen);
    penalise(rs.output_ids, seen);
  }
  if ((p.frequency_penalty != 0.0f || p.presence_penalty != 0.0f) && rs.output_ids != nullptr) {
    // OpenAI style over generated tokens: count × frequency + presence.
    std::unordered_map<int32_t, int> counts;
    for (int32_t id : *rs.output_ids)
      if (id >= 0 && id < vocab) ++counts[id];
    for (const auto& [id, n] : counts)
      x[id] -= static_cast<float>(n) * p.frequency_penalty + p.presence_penalty;
  }
}

int32_t sample_filtered(float* x, int64_t vocab, const SamplingParams& p, double u) {
  const float inv_t = 1.0f / p.temperature;
  // Candidates: all ids, narrowed to the top-k first when asked (cheap partial selection).
  std::vector<int32_t> cand(static_cast<size_t>(vocab));
  std::iota(cand.begin(), cand.end(), 0);
  auto by_logit = [&](int32_t a, int32_t b) { return x[a] > x[b] || (x[a] == x[b] && a < b); };
  const bool need_sorted = p.top_p < 1.0f || p.min_p > 0.0f;
  if (p.top_k > 0 && p.top_k < vocab) {
    std::nth_element(cand.begin(), cand.begin() + p.top_k, cand.end(), by_logit);
    cand.resize(static_cast<size_t>(p.top_k));
  }
  if (need_sorted) std::sort(cand.begin(), cand.end(), by_logit);
  float mx = -INFINITY;
  for (int32_t id : cand) mx = std::max(mx, x[id]);
  std::vector<double> prob(cand.size());
  for (size_t i = 0; i < cand.size(); ++i) prob[i] = std::exp(static_cast<double>((x[cand[i]] - mx) * inv_t));
  size_t keep = cand.size();
  if (p.min_p > 0.0f && need_sorted) {
    const double floor = p.min_p * prob[0];  // prob[0] is the most likely token
    while (keep > 1 && prob[keep - 1] < floor) --keep;
  }
  if (p.top_p < 1.0f) {
    double cum = 0, total = 0;
    for (size_t i = 0; i < keep; ++i) total += prob[i];
    size_t n = 0;
    for (; n < keep; ++n) {
      cum += prob[n];
      if (cum >= p.top_p * total) {
        ++n;
        break;
      }
    }
    keep = std::max<size_t>(1, std::min(keep, n));
  }
  double total = 0;
  for (size_t i = 0; i < keep; ++i) total += prob[i];
  double target = u * total, cum = 0;
  for (size_t i = 0; i < keep; ++i) {
    cum += prob[i];
    if (target < cum) return cand[i];
  }
  return cand[keep - 1];
}

void fill_logprobs(const float* raw, int64_t vocab, float lse, const RowSampling& rs, RowResult& out) {
  if (rs.top_logprobs_num > 0) {
    const int64_t n = std::min<int64_t>(rs.top_logprobs_num, vocab);
    std::vector<int32_t> idx(static_cast<size_t>(vocab));
    std::iota(idx.begin(), idx.end(), 0);
    std::partial_sort(idx.begin(), idx.begin() + n, idx.end(),
                      [&](int32_t a, int32_t b) { return raw[a] > raw[b] || (raw[a] == raw[b] && a < b); });
    for (int64_t i = 0; i < n; ++i) out.top.push_back({idx[i], raw[idx[i]] - lse});
  }
  for (int32_t id : rs.token_ids_logprob)
    out.requested.push_back({id, id >= 0 && id < vocab ? raw[id] - lse : -INFINITY});
}

}  // namespace

Sampler::Sampler(uint64_t seed) : state_(mix(seed)) {}

std::vector<RowResult> Sampler::sample(float* logits, int64_t vocab, std::span<const RowSampling> rows) {
  // Unseeded rows draw from this sampler's stream, taken in row order before going parallel so
  // the outcome does not depend on thread scheduling.
  std::vector<uint64_t> draws(rows.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    const RowSampling& rs = rows[r];
    if (rs.params != nullptr && rs.params->seed) {
      draws[r] = mix(mix(*rs.params->seed) ^ mix(static_cast<uint64_t>(rs.step) + 0x51ed270b27d5d1ull));
    } else {
      draws[r] = state_ = mix(state_);
    }
  }
  std::vector<RowResult> out(rows.size());
  tbb::parallel_for(
      tbb::blocked_range<size_t>(0, rows.size(), 1), [&](const tbb::blocked_range<size_t>& range) {
        std::vector<float> work;
        for (size_t r = range.begin(); r < range.end(); ++r) {
          const RowSampling& rs = rows[r];
          float* raw = logits + static_cast<int64_t>(r) * vocab;
          const bool want_lp = rs.return_logprob || rs.top_logprobs_num > 0 || !rs.token_ids_logprob.empty();
          const float lse = want_lp ? logsumexp(raw, vocab) : 0.0f;
          RowResult& res = out[r];
          if (rs.sample) {
            const SamplingParams* p = rs.params;
            const bool plain = p == nullptr || (p->logit_bias.empty() && p->repetition_penalty == 1.0f &&
                                                p->frequency_penalty == 0.0f && p->presence_penalty == 0.0f);
            const float* x = raw;
            if (!plain) {
              work.assign(raw, raw + vocab);
              apply_penalties(work.data(), vocab, rs);
              x = work.data();
            }
            if (p == nullptr || p->greedy()) {
              res.token = argmax(x, vocab);
            } else {
              if (x == raw) work.assign(raw, raw + vocab);
              res.token = sample_filtered(work.data(), vocab, *p, uniform01(draws[r]));
            }
            if (want_lp) res.logprob = raw[res.token] - lse;
          }
          if (want_lp) fill_logprobs(raw, vocab, lse, rs, res);
        }
      });
  return out;
}

}  // namespace sgl::engine
