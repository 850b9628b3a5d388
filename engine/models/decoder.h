// The decoder-only transformer every supported family is built from: embeddings, N blocks of
// (RMSNorm → attention over paged KV → RMSNorm → dense MLP or MoE), final norm, LM head. A family
// (engine/models/<family>.cpp) only chooses the options below.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/cpu/kernels.h"
#include "engine/forward_batch.h"
#include "engine/model_config.h"
#include "engine/models/shard_plan.h"
#include "engine/safetensors.h"
#include "engine/tensor.h"

namespace sgl::engine {

namespace dist {
class Communicator;
}

struct FamilyOptions {
  bool qk_norm = false;   // RMSNorm on each q and k head before RoPE (Qwen3)
  bool qkv_bias = false;  // bias on q/k/v projections (Qwen2; Llama's attention_bias)
  bool o_bias = false;    // bias on the output projection (Llama's attention_bias)
  bool moe = false;       // sparse MoE MLP on the layers the config selects (Qwen3-MoE)
};

struct LayerWeights {
  std::vector<float> input_norm, post_norm, q_norm, k_norm, qkv_bias, o_bias;
  cpu::PackedWeight qkv, o;         // q,k,v fused: [(Hq + 2·Hkv)·D, H]
  cpu::PackedWeight gate_up, down;  // dense MLP, gate and up fused: [2I, H]
  bool moe = false;
  cpu::PackedWeight router;  // [E, H]
  std::vector<cpu::PackedWeight> expert_gate_up, expert_down;
};

// One layer's slice of the KV pool.
struct KvPool {
  std::vector<Tensor> k, v;  // per layer: [num_slots, kv_heads, head_dim] of dtype (this rank's heads)
  DType dtype = DType::kF32;
  int64_t num_slots = 0;
  cpu::KvLayer layer(const ModelConfig& c, int l);
};

class DecoderModel {
 public:
  DecoderModel(ModelConfig config, FamilyOptions options, DType compute);

  const ModelConfig& config() const { return config_; }
  DType compute_dtype() const { return compute_; }
  int64_t weight_bytes() const;

  // Tensor parallelism: this rank's slice and the group's communicator (which must outlive the
  // model). Call before allocate(); without it the model is whole (tp 1, no collectives).
  void set_shard(const ShardPlan& shard, dist::Communicator* comm);
  const ShardPlan& shard() const { return shard_; }

  // Read-only views of the loaded weights, for backends that upload them (engine/cuda/).
  const FamilyOptions& options() const { return options_; }
  const Tensor& embed_weight() const { return embed_; }
  const cpu::PackedWeight& lm_head_weight() const { return lm_head_; }
  const std::vector<float>& final_norm_weight() const { return final_norm_; }
  const std::vector<LayerWeights>& layer_weights() const { return layers_; }

  // Allocates every weight (uninitialised) — the shapes come from the config alone.
  void allocate();
  // Fills the allocated weights from a checkpoint; errors name the missing or mismatched tensor.
  // Used for the first load and for weight swaps (same buffers).
  // `dry_run`: only check that every tensor exists with the right shape (nothing is written), so a
  // weight swap can refuse a bad checkpoint before touching the live weights.
  Status load(const WeightFiles& files, bool dry_run = false);
  // Deterministic random weights for --load-format dummy, scaled to keep activations finite.
  void init_dummy(uint64_t seed);

  struct Output {
    std::vector<float> logits;                      // rows × vocab
    std::vector<std::vector<float>> hidden_states;  // per captured layer: tokens × hidden
    Status status;  // a failed collective (a peer rank died or hung); the outputs are then garbage
  };
  // `ids` are resolved token ids (no placeholders); logits for the rows the segments ask for.
  // `logits_storage` becomes Output::logits: a caller that hands back the previous step's vector
  // spares the allocator a fresh (and, above glibc's mmap threshold, page-faulting) buffer per step.
  Output forward(const ForwardBatch& batch, const std::vector<int32_t>& ids, KvPool& kv,
                 std::vector<float> logits_storage = {}) const;

 private:
  // rope_cs: the forward's cos/sin table of the batch's positions (Rope::table), shared by layers.
  void attention_block(int l, const ForwardBatch& batch, const float* normed, int64_t t, KvPool& kv,
                       const float* rope_cs, float* out) const;
  void mlp_block(int l, const float* normed, int64_t t, float* out) const;
  void moe_block(int l, const float* normed, int64_t t, float* out) const;
  // Tensor-parallel steps (no-ops on a whole model): the first failure is kept in `st`.
  void all_reduce(float* data, int64_t n, Status& st) const;
  void embed(const std::vector<int32_t>& ids, float* x, Status& st) const;
  void lm_head(const float* normed, int64_t rows, float* logits, Status& st) const;
  // Every weight in the layout its kernel prefers (PackedWeight::lay_out_for_kernels), once
  // loaded: loaders write rows.
  void lay_out_weights();

  ModelConfig config_;
  FamilyOptions options_;
  DType compute_;
  cpu::Rope rope_;
  Tensor embed_;  // [vocab, hidden] of the compute dtype (f32 or bf16)
  cpu::PackedWeight lm_head_;
  std::vector<float> final_norm_;
  std::vector<LayerWeights> layers_;
  ShardPlan shard_;
  dist::Communicator* comm_ = nullptr;
};

}  // namespace sgl::engine
