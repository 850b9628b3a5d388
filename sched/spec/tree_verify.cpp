#include "sched/spec/tree_verify.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace sgl::sched::spec {

VerifyResult verify_greedy(const DraftTree& tree, const std::vector<int32_t>& argmax) {
  VerifyResult r;
  int cur = 0;
  for (;;) {
    int next = -1;
    for (int32_t c : tree.children(cur))
      if (tree.tokens[c] == argmax[cur]) {
        next = c;
        break;
      }
    if (next < 0) break;
    r.accepted.push_back(next);
    cur = next;
  }
  r.bonus = argmax[cur];
  return r;
}

namespace {

int32_t draw(const std::vector<float>& p, double total, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.0, total);
  double x = u(rng), acc = 0.0;
  int32_t last = -1;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] <= 0.0f) continue;
    acc += p[i];
    last = static_cast<int32_t>(i);
    if (x < acc) return last;
  }
  return last;  // rounding at the very end of the range
}

}  // namespace

VerifyResult verify_sampled(const DraftTree& tree, const std::function<std::vector<float>(int)>& probs,
                            std::mt19937_64& rng) {
  VerifyResult r;
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  int cur = 0;
  for (;;) {
    std::vector<float> p = probs(cur);
    double total = std::accumulate(p.begin(), p.end(), 0.0);
    int next = -1;
    for (int32_t c : tree.children(cur)) {
      const int32_t x = tree.tokens[c];
      if (total <= 0.0) break;
      if (coin(rng) * total < p[x]) {
        next = c;
        break;
      }
      total -= p[x];  // rejected: sample from the residual distribution from now on
      p[x] = 0.0f;
    }
    if (next < 0) {
      r.bonus = draw(p, total, rng);
      return r;
    }
    r.accepted.push_back(next);
    cur = next;
  }
}

std::vector<float> target_distribution(const float* logits, int64_t vocab, const engine::SamplingParams& sp) {
  std::vector<float> p(logits, logits + vocab);
  const float t = std::max(sp.temperature, 1e-6f);
  const float mx = *std::max_element(p.begin(), p.end());
  double sum = 0.0;
  for (auto& v : p) {
    v = std::exp((v - mx) / t);
    sum += v;
  }
  for (auto& v : p) v = static_cast<float>(v / sum);
  const bool top_k = sp.top_k > 0 && sp.top_k < vocab;
  if (top_k || sp.top_p < 1.0f || sp.min_p > 0.0f) {
    std::vector<int32_t> order(static_cast<size_t>(vocab));
    std::iota(order.begin(), order.end(), 0);
    const int64_t keep_max = top_k ? sp.top_k : vocab;
    // Only the head of the order matters: sort a prefix, and widen it only while the mass sorted
    // so far is below top_p (large vocabularies rarely need more than a few hundred tokens).
    auto by_prob = [&](int32_t a, int32_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); };
    int64_t head = sp.top_p < 1.0f ? std::min<int64_t>(keep_max, 256) : (top_k ? keep_max : 1);
    for (;; head = std::min<int64_t>(keep_max, head * 8)) {
      std::partial_sort(order.begin(), order.begin() + head, order.end(), by_prob);
      double mass = 0.0;
      for (int64_t i = 0; i < head; ++i) mass += p[order[i]];
      if (head == keep_max || sp.top_p >= 1.0f || mass > sp.top_p) break;
    }
    // Tokens kept: the top-k head, cut where the mass before a token exceeds top_p; min-p later.
    int64_t keep = sp.top_p < 1.0f || top_k ? head : vocab;
    if (sp.top_p < 1.0f) {
      double acc = 0.0;
      for (int64_t i = 0; i < head; ++i) {
        acc += p[order[i]];
        if (acc - p[order[i]] > sp.top_p) {  // tokens whose preceding mass already exceeds top_p go
          keep = i;
          break;
        }
      }
    }
    const float floor = sp.min_p > 0.0f ? sp.min_p * p[order[0]] : 0.0f;
    std::vector<float> q(static_cast<size_t>(vocab), 0.0f);
    double kept = 0.0;
    for (int64_t i = 0; i < keep; ++i) {
      const int32_t id = order[i];
      if (p[id] < floor) continue;
      q[id] = p[id];
      kept += p[id];
    }
    for (auto& v : q) v = static_cast<float>(v / kept);
    return q;
  }
  return p;
}

}  // namespace sgl::sched::spec
