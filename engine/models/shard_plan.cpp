#include "engine/models/shard_plan.h"

#include <fmt/format.h>

#include <algorithm>

namespace sgl::engine {

int64_t ShardPlan::vocab_of(int rank, int64_t full_vocab) const {
  const int64_t begin = std::min(full_vocab, rank * vocab_per_rank);
  return std::min(full_vocab, begin + vocab_per_rank) - begin;
}

ShardPlan ShardPlan::whole(const ModelConfig& c) {
  ShardPlan p;
  p.q_heads = c.num_heads;
  p.kv_heads = c.num_kv_heads;
  p.inter = c.intermediate_size;
  p.shared_inter = c.shared_expert_intermediate_size;
  p.vocab = p.vocab_per_rank = c.vocab_size;
  p.experts = c.num_experts;
  p.moe_inter = c.moe_intermediate_size;
  return p;
}

Result<ShardPlan> ShardPlan::make(const ModelConfig& c, int rank, int tp, int ep) {
  if (tp < 1 || rank < 0 || rank >= tp) return invalid_argument(fmt::format("tp rank {} of {}", rank, tp));
  if (ep < 1 || tp % ep != 0)
    return invalid_argument(fmt::format("--ep-size {} must divide --tp-size {}", ep, tp));
  if (tp == 1 && ep == 1) return whole(c);
  ShardPlan p;
  p.tp_rank = rank;
  p.tp_size = tp;
  if (c.num_heads % tp != 0)
    return invalid_argument(
        fmt::format("--tp-size {}: the model's {} attention heads do not split evenly", tp, c.num_heads));
  p.q_heads = c.num_heads / tp;
  p.q_head0 = rank * p.q_heads;
  if (tp <= c.num_kv_heads) {
    if (c.num_kv_heads % tp != 0)
      return invalid_argument(
          fmt::format("--tp-size {}: the model's {} KV heads do not split evenly", tp, c.num_kv_heads));
    p.kv_heads = c.num_kv_heads / tp;
    p.kv_head0 = rank * p.kv_heads;
  } else {
    // More ranks than KV heads: each rank keeps one KV head, the one its query heads attend to
    // (rank r's first query head is r·Hq/tp; its KV head is that over the GQA group size).
    if (tp % c.num_kv_heads != 0)
      return invalid_argument(
          fmt::format("--tp-size {} must be a multiple of the model's {} KV heads", tp, c.num_kv_heads));
    p.kv_heads = 1;
    p.kv_head0 = rank / (tp / c.num_kv_heads);
  }
  if (c.intermediate_size % tp != 0)
    return invalid_argument(
        fmt::format("--tp-size {}: intermediate_size {} does not split evenly", tp, c.intermediate_size));
  p.inter = c.intermediate_size / tp;
  p.inter0 = rank * p.inter;
  if (c.shared_expert_intermediate_size % tp != 0)
    return invalid_argument(
        fmt::format("--tp-size {}: the shared expert's intermediate size {} does not split evenly", tp,
                    c.shared_expert_intermediate_size));
  p.shared_inter = c.shared_expert_intermediate_size / tp;
  p.shared_inter0 = rank * p.shared_inter;
  p.vocab_per_rank = (c.vocab_size + tp - 1) / tp;
  p.vocab0 = std::min<int64_t>(c.vocab_size, rank * p.vocab_per_rank);
  p.vocab = p.vocab_of(rank, c.vocab_size);
  p.ep_size = ep;
  p.moe_tp_size = tp / ep;
  p.ep_rank = rank / p.moe_tp_size;
  p.moe_tp_rank = rank % p.moe_tp_size;
  if (c.num_experts > 0) {
    if (c.num_experts % ep != 0)
      return invalid_argument(
          fmt::format("--ep-size {}: the model's {} experts do not split evenly", ep, c.num_experts));
    if (c.moe_intermediate_size % p.moe_tp_size != 0)
      return invalid_argument(
          fmt::format("--tp-size {} / --ep-size {}: moe_intermediate_size {} does not split "
                      "evenly over {} ranks per expert",
                      tp, ep, c.moe_intermediate_size, p.moe_tp_size));
    p.experts = c.num_experts / ep;
    p.expert0 = p.ep_rank * p.experts;
    p.moe_inter = c.moe_intermediate_size / p.moe_tp_size;
    p.moe_inter0 = p.moe_tp_rank * p.moe_inter;
  }
  return p;
}

}  // namespace sgl::engine
