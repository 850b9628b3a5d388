// The decoder-only transformer every supported family is built from: embeddings, N blocks of
// (RMSNorm → attention over paged KV → RMSNorm → dense MLP or MoE), final norm, LM head. A family
// (engine/models/<family>.cpp) only chooses the options below.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "engine/cpu/kernels.h"
#include "engine/forward_batch.h"
#include "engine/model_config.h"
#include "engine/models/decoder_lora.h"
#include "engine/models/shard_plan.h"
#include "engine/safetensors.h"
#include "engine/tensor.h"
#include "engine/tensor_stats.h"

namespace sgl::engine {

namespace dist {
class Communicator;
}

// Where a family's checkpoint keeps each tensor (HF Llama/Qwen names by default). Layer tensors
// are `<layer_root>.<i>.<name>`, experts `<layer_root>.<i>.<expert_root>.<e>.<name>`; an empty
// name marks a tensor the family does not have.
struct WeightNames {
  std::string_view embed = "model.embed_tokens.weight";
  std::string_view final_norm = "model.norm.weight";
  std::string_view lm_head = "lm_head.weight";
  std::string_view layer_root = "model.layers";
  std::string_view attn_norm = "input_layernorm.weight";
  std::string_view attn_out_norm;  // sandwich norms (Gemma 2, Grok): on the attention output
  std::string_view mlp_norm = "post_attention_layernorm.weight";
  std::string_view mlp_out_norm;  // sandwich norms: on the MLP / MoE output
  // q, k and v as three tensors, or `qkv` as one with [q; k; v] rows (Qwen v1, Bailing); names
  // without ".weight" / ".bias".
  std::string_view qkv;
  std::string_view q = "self_attn.q_proj", k = "self_attn.k_proj", v = "self_attn.v_proj";
  std::string_view o = "self_attn.o_proj";
  std::string_view q_norm = "self_attn.q_norm.weight", k_norm = "self_attn.k_norm.weight";
  std::string_view gate = "mlp.gate_proj.weight", up = "mlp.up_proj.weight", down = "mlp.down_proj.weight";
  std::string_view router = "mlp.gate.weight";
  std::string_view expert_root = "mlp.experts";
  std::string_view expert_gate = "gate_proj.weight", expert_up = "up_proj.weight",
                   expert_down = "down_proj.weight";
  std::string_view shared_root = "mlp.shared_expert";  // + gate/up/down_proj.weight
  std::string_view shared_gate = "mlp.shared_expert_gate.weight";
};

enum class Activation { kSilu, kGeluTanh };  // of the gated MLPs (dense, experts, shared)
enum class SharedExpert {
  kNone,
  kSigmoidGated,  // Qwen2-MoE: + sigmoid(x·w_g)·shared(x)
  kUngated,       // Bailing: + shared(x)
};

// The structure of a family's decoder; its sizes and constants are in ModelConfig.
struct FamilyOptions {
  bool qk_norm = false;   // RMSNorm on each q and k head before RoPE (Qwen3)
  bool qkv_bias = false;  // bias on q/k/v projections (Qwen2; Llama's attention_bias)
  bool o_bias = false;    // bias on the output projection (Llama's attention_bias)
  bool moe = false;       // sparse MoE MLP on the layers the config selects (Qwen3-MoE)
  // Gemma: checkpoint norm weights are offsets from 1 (y = x̂·(1 + w)); 1 is added at load, which
  // is exact in fp32, so the norm kernels stay the plain ones.
  bool norm_weight_offset = false;
  bool sandwich_norms = false;  // attention and MLP outputs normed before their residual add
  Activation activation = Activation::kSilu;
  SharedExpert shared_expert = SharedExpert::kNone;
  bool no_lm_head = false;  // a base model (*Model): the LM head is the embedding table
  WeightNames names;
};

struct LayerWeights {
  std::vector<float> input_norm, post_norm, q_norm, k_norm, qkv_bias, o_bias;
  std::vector<float> attn_out_norm, mlp_out_norm;  // sandwich norms (empty when the family has none)
  cpu::PackedWeight qkv, o;                        // q,k,v fused: [(Hq + 2·Hkv)·D, H]
  cpu::PackedWeight gate_up, down;  // dense MLP, gate and up fused: [2I, H] (beside the experts: Grok)
  bool moe = false;
  bool dense = false;        // has the dense MLP (every non-MoE layer; MoE layers with residual_moe)
  cpu::PackedWeight router;  // [E, H]
  std::vector<cpu::PackedWeight> expert_gate_up, expert_down;
  cpu::PackedWeight shared_gate_up, shared_down;  // shared expert (SharedExpert::k*)
  cpu::PackedWeight shared_gate;                  // [1, H], fp32 (kSigmoidGated)
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
  int64_t routed_expert_bytes() const;  // this rank's routed experts (part of weight_bytes)

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
  // Frees every weight (LoRA slots stay); allocate() and a fill bring them back.
  void release_weights();
  // Fills the allocated weights from a checkpoint; errors name the missing or mismatched tensor.
  // Used for the first load and for weight swaps (same buffers).
  // `dry_run`: only check that every tensor exists with the right shape (nothing is written), so a
  // weight swap can refuse a bad checkpoint before touching the live weights.
  Status load(const WeightFiles& files, bool dry_run = false);
  // Deterministic random weights for --load-format dummy, scaled to keep activations finite.
  void init_dummy(uint64_t seed);
  // Replaces every float projection (attention, MLPs, experts; not embeddings, LM head or router)
  // with `quantize(weight)`: online quantization after load.
  void quantize_linears(const std::function<cpu::PackedWeight(const cpu::PackedWeight&)>& quantize);

  // Multi-LoRA: `num_slots` empty adapter slots; refused for families whose projections are
  // stored fused (Qwen v1, Bailing), which PEFT adapters of the seven projections cannot target.
  Status init_lora(int num_slots);
  // Puts `adapter` (null: none) into `slot`: this rank's slice, in the compute dtype.
  Status install_lora(int slot, const LoraAdapter* adapter) {
    return lora_.install(slot, adapter, config_, shard_);
  }
  const LoraSlots& lora_slots() const { return lora_; }

  struct Output {
    std::vector<float> logits;                      // rows × vocab
    std::vector<std::vector<float>> hidden_states;  // per captured layer: tokens × hidden
    std::vector<float> row_hidden;                  // return_row_hidden: logits rows × hidden, normed
    std::vector<TensorStats> tensor_stats;          // ForwardBatch::trace_precision
    std::vector<std::pair<int32_t, std::vector<float>>> segment_hidden;  // Segment::return_all_hidden
    // ForwardBatch::capture_routed_experts: tokens × layers × top-k expert ids (-1: a dense layer).
    std::vector<int32_t> routed_experts;
    Status status;  // a failed collective (a peer rank died or hung); the outputs are then garbage
  };
  // `ids` are resolved token ids (no placeholders); logits for the rows the segments ask for.
  // `logits_storage` becomes Output::logits: a caller that hands back the previous step's vector
  // spares the allocator a fresh (and, above glibc's mmap threshold, page-faulting) buffer per step.
  Output forward(const ForwardBatch& batch, const std::vector<int32_t>& ids, KvPool& kv,
                 std::vector<float> logits_storage = {}) const;
  // Frees the activation buffers, which keep the size of the largest forward so far (a long
  // prefill's can be tens of MiB); only between forwards. The next forward allocates again.
  void release_scratch() const { scratch_.reset(); }

 private:
  // rope_cs: the forward's cos/sin table of the batch's positions (Rope::table), shared by layers.
  void attention_block(int l, const ForwardBatch& batch, const float* normed, int64_t t, KvPool& kv,
                       const float* rope_cs, float* out) const;
  // The MLP part of layer l: dense, MoE, MoE + shared expert, or (MoE + dense)/√2.
  // `routed` (nullable): where token 0's top-k expert ids of this layer go (ForwardBatch::
  // capture_routed_experts), token i's at routed + i · layers · top-k.
  void ffn_block(int l, const ForwardBatch& batch, const float* normed, int64_t t, float* out,
                 int32_t* routed) const;
  // `lora_layer` ≥ 0: the dense MLP of that layer, which LoRA adapters may target (-1: a shared
  // expert, which they do not).
  void gated_mlp(const ForwardBatch& batch, const float* x, int64_t t, const cpu::PackedWeight& gate_up,
                 const cpu::PackedWeight& down, float* out, int lora_layer = -1) const;
  void moe_block(int l, const float* normed, int64_t t, float* out, int32_t* routed) const;
  void shared_expert(int l, const ForwardBatch& batch, const float* normed, int64_t t, float* out) const;
  // Rewrites the RoPE table rows of segments with a dynamic-NTK alpha (Qwen v1).
  void rebase_rope_for_ntk(const ForwardBatch& batch, float* rope_cs) const;
  // Tensor-parallel steps (no-ops on a whole model): the first failure is kept in `st`.
  void all_reduce(float* data, int64_t n, Status& st) const;
  void embed(const std::vector<int32_t>& ids, float* x, Status& st) const;
  void lm_head(const float* normed, int64_t rows, float* logits, Status& st) const;
  // Every weight in the layout its kernel prefers (PackedWeight::lay_out_for_kernels), once
  // loaded: loaders write rows.
  void lay_out_weights();
  // Tells quantized weights whether activations may be rounded to bf16 (a bf16 compute dtype).
  void mark_quantized_compute();
  // The projections (attention, MLPs, experts; not embeddings, LM head or router).
  void for_each_linear(const std::function<void(cpu::PackedWeight&)>& f);

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
  LoraSlots lora_;
  // Activation buffers reused by every layer and step (decoder_forward.cpp); created by the first
  // forward. Forwards of one model run on one thread at a time (a tensor-parallel rank has a model
  // of its own). shared_ptr: the type is complete only in decoder_forward.cpp.
  struct ForwardScratch;
  ForwardScratch& scratch() const;
  mutable std::shared_ptr<ForwardScratch> scratch_;
};

}  // namespace sgl::engine
