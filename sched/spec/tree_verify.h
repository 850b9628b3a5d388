// Verifying a draft tree against the target's logits at every node.
//  - Greedy: walk from the root, following the child whose token is the target's argmax; the
//    target's argmax at the last accepted node is the bonus token. The output is exactly the
//    target's greedy decoding.
//  - Sampled: at each node, try its children in order; a child with token x is accepted with
//    probability p(x) under the (renormalised) target distribution p of the node, otherwise x is
//    removed from p. When no child is accepted, the bonus token is drawn from what is left of p.
//    Draft proposals are deterministic (top-k), so this is SGLang's tree speculative sampling
//    with one-hot draft probabilities, and every emitted token follows the target distribution.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include "engine/forward_batch.h"
#include "sched/spec/draft_tree.h"

namespace sgl::sched::spec {

struct VerifyResult {
  std::vector<int32_t> accepted;  // node indices of accepted drafts, root excluded, in path order
  int32_t bonus = -1;             // the target's token after the last accepted node
};

// `argmax[node]`: the target's greedy token at each node.
VerifyResult verify_greedy(const DraftTree& tree, const std::vector<int32_t>& argmax);

// `probs(node)`: the target's processed distribution (vocab floats) at a node, asked for only at
// the nodes the walk reaches (the root and accepted drafts).
VerifyResult verify_sampled(const DraftTree& tree, const std::function<std::vector<float>(int)>& probs,
                            std::mt19937_64& rng);

// The distribution SGLang samples from, given a row already through engine::apply_logit_processing
// (penalties and logit bias): / temperature, softmax, then top-k, top-p and min-p truncation,
// renormalised.
std::vector<float> target_distribution(const float* logits, int64_t vocab, const engine::SamplingParams& p);

}  // namespace sgl::sched::spec
