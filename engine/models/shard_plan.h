// Which slice of a model one tensor-parallel rank owns (SGLang's layout): attention by heads (KV
// heads replicated when tp > num_kv_heads), dense MLP by intermediate columns, the vocabulary in
// contiguous ranges, MoE experts over --ep-size groups with each expert's intermediate split over
// the tp/ep ranks of a group (expert tensor parallelism). tp 1 owns everything.
#pragma once

#include <cstdint>

#include "base/result.h"
#include "engine/model_config.h"

namespace sgl::engine {

struct ShardPlan {
  int tp_rank = 0, tp_size = 1;
  int ep_rank = 0, ep_size = 1;          // expert groups: rank r is in group r / (tp / ep)
  int moe_tp_rank = 0, moe_tp_size = 1;  // ranks sharing one group's experts, each a column slice
  int q_head0 = 0, q_heads = 0;
  int kv_head0 = 0, kv_heads = 0;
  int64_t inter0 = 0, inter = 0;                // dense MLP intermediate columns
  int64_t shared_inter0 = 0, shared_inter = 0;  // the shared expert's, split as the dense MLP's
  int64_t vocab0 = 0, vocab = 0;                // vocabulary rows of the embedding and LM head
  int64_t vocab_per_rank = 0;                   // ceil(V / tp): rank r owns [r·per, min(V, (r+1)·per))
  int expert0 = 0, experts = 0;                 // local experts [expert0, expert0 + experts)
  int64_t moe_inter0 = 0, moe_inter = 0;        // each local expert's intermediate columns

  bool sharded() const { return tp_size > 1; }
  // Rows of the vocabulary rank r owns (for gathering the LM head's logits).
  int64_t vocab_of(int rank, int64_t full_vocab) const;

  // The whole model on one rank.
  static ShardPlan whole(const ModelConfig& c);
  // Errors name the dimension that does not divide (heads, intermediate, experts).
  static Result<ShardPlan> make(const ModelConfig& c, int tp_rank, int tp_size, int ep_size);
};

}  // namespace sgl::engine
