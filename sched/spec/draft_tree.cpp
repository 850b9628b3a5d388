#include "sched/spec/draft_tree.h"

#include <algorithm>
#include <numeric>

namespace sgl::sched::spec {

std::vector<int32_t> DraftTree::children(int node) const {
  std::vector<int32_t> out;
  for (int i = node + 1; i < size(); ++i)
    if (parent[i] == node) out.push_back(i);
  return out;
}

std::vector<int32_t> DraftTree::ancestors(int node) const {
  std::vector<int32_t> out;
  for (int p = parent[node]; p >= 0; p = parent[p]) out.push_back(p);
  std::reverse(out.begin(), out.end());
  return out;
}

void TreeBuilder::start(const std::vector<float>& probs, const std::vector<int32_t>& ids) {
  cand_.clear();
  branches_.clear();
  branch_tokens_.clear();
  branch_source_.clear();
  for (int j = 0; j < k_; ++j) {
    cand_.push_back({ids[j], probs[j], -1});
    branches_.push_back(j);
    branch_tokens_.push_back(ids[j]);
    branch_source_.push_back(-1);
  }
}

void TreeBuilder::expand(const std::vector<float>& probs, const std::vector<int32_t>& ids) {
  const auto base = static_cast<int32_t>(cand_.size());
  for (int b = 0; b < k_; ++b)
    for (int j = 0; j < k_; ++j)
      cand_.push_back({ids[b * k_ + j], cand_[branches_[b]].score * probs[b * k_ + j], branches_[b]});
  // Keep the k best expansions (ties: the earlier candidate, as a stable top-k).
  std::vector<int32_t> order(static_cast<size_t>(k_ * k_));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return cand_[base + a].score > cand_[base + b].score; });
  branches_.clear();
  branch_tokens_.clear();
  branch_source_.clear();
  for (int r = 0; r < k_; ++r) {
    branches_.push_back(base + order[r]);
    branch_tokens_.push_back(cand_[base + order[r]].token);
    branch_source_.push_back(order[r] / k_);
  }
}

DraftTree TreeBuilder::finish(int32_t root_token, int num_draft_tokens) const {
  // Best candidates by score, ties to the earlier one: a child never scores above its parent
  // (probabilities ≤ 1) and comes later, so every chosen node's parent is chosen too.
  std::vector<int32_t> order(cand_.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return cand_[a].score > cand_[b].score; });
  const int take = std::min<int>(num_draft_tokens - 1, static_cast<int>(cand_.size()));
  std::vector<int32_t> chosen(order.begin(), order.begin() + take);
  std::sort(chosen.begin(), chosen.end());
  DraftTree t;
  t.tokens = {root_token};
  t.parent = {-1};
  t.depth = {0};
  t.score = {1.0f};
  std::vector<int32_t> node_of(cand_.size(), -1);
  for (int32_t c : chosen) {
    const int32_t pc = cand_[c].parent;
    const int32_t pn = pc < 0 ? 0 : (node_of[pc] >= 0 ? node_of[pc] : 0);
    node_of[c] = t.size();
    t.tokens.push_back(cand_[c].token);
    t.parent.push_back(pn);
    t.depth.push_back(t.depth[pn] + 1);
    t.score.push_back(cand_[c].score);
  }
  // Slot offsets: the greedy path (best child at each level) first, then the rest in node order.
  t.slot_offset.assign(static_cast<size_t>(t.size()), -1);
  t.slot_offset[0] = 0;
  int next = 1;
  for (int cur = 0;;) {
    int best = -1;
    for (int32_t c : t.children(cur))
      if (best < 0 || t.score[c] > t.score[best]) best = c;
    if (best < 0) break;
    t.slot_offset[best] = next++;
    cur = best;
  }
  for (int i = 1; i < t.size(); ++i)
    if (t.slot_offset[i] < 0) t.slot_offset[i] = next++;
  return t;
}

}  // namespace sgl::sched::spec
