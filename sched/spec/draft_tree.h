// The draft token tree of one request for one speculative round (SGLang's select_top_k_tokens
// and organize_draft_results). Step 0 takes the top-k of the draft-extend row; every later step
// expands each of the k branches by its own top-k and keeps the k best by path score (product of
// draft probabilities). At the end the num_draft_tokens − 1 best candidates, in candidate order,
// become the tree under the root (the last verified token).
#pragma once

#include <cstdint>
#include <vector>

namespace sgl::sched::spec {

struct DraftTree {
  // Node 0 is the root; nodes 1.. are drafts in candidate order (parents before children).
  std::vector<int32_t> tokens;
  std::vector<int32_t> parent;  // node index; -1 for the root
  std::vector<int32_t> depth;   // root 0
  std::vector<float> score;     // root 1
  // Where each node's target KV goes, as an offset from the root's position: the best-scoring
  // path gets offsets 1, 2, ... (so when it is accepted its KV already sits at its position),
  // the other nodes follow it.
  std::vector<int32_t> slot_offset;

  int size() const { return static_cast<int>(tokens.size()); }
  std::vector<int32_t> children(int node) const;
  std::vector<int32_t> ancestors(int node) const;  // root first, the node itself excluded
};

class TreeBuilder {
 public:
  explicit TreeBuilder(int topk) : k_(topk) {}

  // Step 0: the draft-extend row's top-k (probabilities descending, target ids).
  void start(const std::vector<float>& probs, const std::vector<int32_t>& ids);
  // Step i ≥ 1: per current branch b (row b of the last draft forward) its top-k: probs[b·k + j].
  void expand(const std::vector<float>& probs, const std::vector<int32_t>& ids);

  // The branches to run through the draft next: their tokens and, per branch, the row of the
  // previous draft forward it extends (-1: the extend row).
  const std::vector<int32_t>& branch_tokens() const { return branch_tokens_; }
  const std::vector<int32_t>& branch_source_row() const { return branch_source_; }

  DraftTree finish(int32_t root_token, int num_draft_tokens) const;

 private:
  struct Candidate {
    int32_t token;
    float score;
    int32_t parent;  // candidate index, -1 = root
  };
  int k_;
  std::vector<Candidate> cand_;
  std::vector<int32_t> branches_;  // candidate indices of the current branches
  std::vector<int32_t> branch_tokens_, branch_source_;
};

}  // namespace sgl::sched::spec
