// The EAGLE3 draft head (SGLang's LlamaForCausalLMEagle3): `fc` projects the concatenated target
// hidden states of three layers to the hidden size; one Llama decoder layer takes
// [RMSNorm(embed(token)) ⊕ RMSNorm(hidden)] (2H wide) for q/k/v; `norm` and an `lm_head` over a
// smaller draft vocabulary whose ids map to the target's by `d2t`. The draft keeps its own
// one-layer KV pool whose slots mirror the target's (slot s holds the draft KV of the position
// whose target KV is in slot s), plus a scratch region for tree drafting.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/cpu/kernels.h"
#include "engine/forward_batch.h"
#include "engine/model_config.h"
#include "engine/model_runner.h"
#include "engine/tensor.h"

namespace sgl::engine::spec {

struct Eagle3Config {
  ModelConfig model;             // the draft layer's shape (hidden, heads, rope, eps)
  int64_t draft_vocab_size = 0;  // lm_head rows
  int64_t target_hidden_size = 0;
  // Target layers whose OUTPUT hidden states feed `fc`, in concatenation order. SGLang's
  // eagle_aux_hidden_state_layer_ids i name the input of layer i+1 = the output of layer i;
  // without ids SGLang captures the inputs of layers 2, N/2, N-3 = outputs of 1, N/2-1, N-4.
  std::vector<int> capture_layers;
};

// Reads config.json of a draft directory; `target_num_layers` resolves the default aux layers.
Result<Eagle3Config> load_eagle3_config(const std::string& dir, int target_num_layers);

class Eagle3Draft {
 public:
  // Loads the head and the target's embedding table (model.embed_tokens.weight of
  // `target_dir`; the head has none). Rejects, with a message naming the mismatch, a head whose
  // hidden size, target hidden size or vocabulary differs from the target, or a missing tensor.
  static Result<std::unique_ptr<Eagle3Draft>> load(const std::string& draft_dir,
                                                   const std::string& target_dir, const ModelInfo& target,
                                                   DType compute);
  ~Eagle3Draft();

  const Eagle3Config& config() const { return cfg_; }
  int64_t hidden_size() const { return cfg_.model.hidden_size; }
  int64_t draft_vocab_size() const { return cfg_.draft_vocab_size; }
  int32_t to_target_id(int32_t draft_id) const { return draft_id + static_cast<int32_t>(d2t_[draft_id]); }

  // KV pool of `num_slots` mirrored slots followed by `scratch_slots` scratch slots.
  Status init_kv(int64_t num_slots, int64_t scratch_slots);
  int64_t num_slots() const { return num_slots_; }
  int64_t scratch_begin() const { return num_slots_; }
  int64_t scratch_slots() const { return scratch_; }
  // Grows the scratch region (keeping the mirrored KV) when a batch needs more.
  Status ensure_scratch(int64_t scratch_slots);

  struct Output {
    std::vector<float> logits;  // rows the segments ask for (logits_start) × draft vocab
    std::vector<float> hidden;  // every token × H: the pre-norm output fed back to the next step
  };
  // `ids` are target-vocabulary ids; `hidden` is tokens × width, width = 3·target H (target
  // states, projected by fc) or H (the draft's own output of the previous step).
  Output forward(const ForwardBatch& batch, const float* hidden, int64_t width);

 private:
  Eagle3Draft() = default;
  struct Weights;
  Eagle3Config cfg_;
  DType compute_ = DType::kF32;
  std::unique_ptr<Weights> w_;
  std::vector<int64_t> d2t_;
  Tensor k_, v_;  // [slots, kv_heads, head_dim]
  int64_t num_slots_ = 0, scratch_ = 0;
};

}  // namespace sgl::engine::spec
