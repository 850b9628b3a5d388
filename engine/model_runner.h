// The engine as the scheduler sees it: a model with a KV pool that runs ForwardBatches.
// Backends (cpu, cuda) implement it; sched/ depends on nothing else of engine/.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/forward_batch.h"
#include "engine/lora/lora_adapter.h"
#include "engine/model_config.h"
#include "engine/tensor_stats.h"

namespace sgl::engine {

struct ModelInfo {
  std::string architecture;  // config.json architectures[0]
  std::string model_type;    // config.json model_type
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int num_layers = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  int64_t context_length = 0;          // max_position_embeddings or --context-length
  std::vector<int32_t> eos_token_ids;  // config + generation_config
  int64_t weight_bytes = 0;            // resident weights
  // Of which routed MoE experts (a decode step reads only those its tokens pick).
  int64_t routed_expert_bytes = 0;
  int num_experts = 0, num_experts_per_tok = 0;
  int64_t kv_bytes_per_token = 0;  // K+V over all layers
  // Qwen v1 use_dynamic_ntk: a prompt longer than this gets RoPE rebased by
  // dynamic_ntk_alpha(prompt length), which its KV then carries (0 = no dynamic NTK).
  int64_t dynamic_ntk_seq_length = 0;
  // The whole model's config as served (--model-layer-nums applied): what a LoRA adapter is
  // checked against. Null for runners without a model (test doubles).
  std::shared_ptr<const ModelConfig> config;
  int32_t dynamic_ntk_alpha(int64_t prompt_len) const {
    if (dynamic_ntk_seq_length <= 0 || prompt_len <= dynamic_ntk_seq_length) return 1;
    // HF QWenModel.get_ntk_alpha: 2^ceil(log2(L / seq_length) + 1) − 1.
    const double v =
        std::log2(static_cast<double>(prompt_len) / static_cast<double>(dynamic_ntk_seq_length)) + 1;
    return static_cast<int32_t>(std::max(1.0, std::exp2(std::ceil(v)) - 1));
  }
};

// Result of one step: per logits row, the sampled token and requested logprobs; optionally
// raw logits (tests, speculative verification) and captured hidden states.
struct StepOutput {
  std::vector<RowResult> rows;
  std::vector<float> logits;  // num_rows x vocab, only when StepInput::return_logits
  int64_t vocab_size = 0;
  // hidden_states[i]: num_tokens x hidden_size (fp32) after layer capture_hidden_layers[i]
  std::vector<std::vector<float>> hidden_states;
  // ForwardBatch::trace_precision: per-segment statistics of the intermediate tensors (the CPU
  // engine; other runners leave it empty).
  std::vector<TensorStats> tensor_stats;
  // Segment::return_all_hidden: (segment index, new_len × hidden_size floats) per such segment.
  std::vector<std::pair<int32_t, std::vector<float>>> segment_hidden;
  // ForwardBatch::capture_routed_experts: tokens × num_layers × num_experts_per_tok expert ids in
  // batch token order (-1 for a dense layer); empty for a dense model.
  std::vector<int32_t> routed_experts;
};

// Puts an adapter into a runner slot (null: empties the slot) before a step's forward. The
// scheduler sequences them with the steps, so a slot changes only between the forwards that use it.
struct LoraSlotLoad {
  int32_t slot = 0;
  std::shared_ptr<const LoraAdapter> adapter;
};

// The runner's adapter slots (--max-loras-per-batch) and the ranks and modules they hold.
struct LoraPoolConfig {
  int32_t num_slots = 0;
  int32_t max_rank = 0;
  LoraModuleSet modules = kAllLoraModules;
};

struct StepInput {
  std::vector<LoraSlotLoad> lora_loads;  // applied in order before the forward
  ForwardBatch batch;
  std::vector<RowSampling> sampling;  // one per logits row
  bool return_logits = false;
};

class ModelRunner {
 public:
  virtual ~ModelRunner() = default;
  virtual const ModelInfo& info() const = 0;

  // Allocates the KV pool once: `num_slots` token slots of `page_size` tokens per page. The CPU
  // backend commits the memory as it allocates and may stop short, at a page boundary, when memory
  // runs out meanwhile: callers size everything else from kv_num_slots() afterwards.
  virtual Status init_kv_cache(int64_t num_slots, int page_size) = 0;
  virtual int64_t kv_num_slots() const = 0;
  // Frees the KV pool's memory (/release_memory_occupation); init_kv_cache allocates it again.
  // Only between steps, with no request holding KV. Backends that cannot free it refuse.
  virtual Status release_kv_cache() {
    return unsupported(
        "this backend cannot release its KV cache memory (release_kv_cache is not implemented)");
  }

  // Frees the model weights' memory (/release_memory_occupation with the "weights" tag);
  // resume_weights allocates and fills them again from where they were last loaded. No step runs
  // in between. Backends that cannot free them refuse.
  virtual Status release_weights() {
    return unsupported("this backend cannot release the model weights' memory");
  }
  virtual Status resume_weights() { return ok_status(); }

  // Multi-LoRA: allocates `config.num_slots` adapter slots (once, before the first step with a
  // LoRA segment). Backends without LoRA refuse, naming themselves.
  virtual Status init_lora(const LoraPoolConfig& config) {
    (void)config;
    return unsupported("LoRA adapters are not implemented on this backend");
  }

  // Runs one forward + sampling. Placeholder input ids are resolved from the request-slot
  // token table, which the sampled tokens of this step update.
  virtual Result<StepOutput> step(const StepInput& input) = 0;

  // Hands back memory sized by the largest step so far (the logits of the biggest batch), which
  // would otherwise stay resident at that high-water mark. Called by the scheduler after a second
  // idle, never while a step runs; the next step allocates again.
  virtual void release_idle_memory() {}

  // Reloads weights from a model directory into the existing buffers (KV cache untouched).
  // Refuses, keeping the old weights, when the architecture or any shape differs.
  virtual Status load_weights_from_disk(const std::string& model_path) = 0;

  // Bytes of memory the backend can still use (after weights) for KV and activations. CPU: the
  // memory this process may take now (MemAvailable, or the cgroup's room when smaller) less a
  // reserve for the rest of the machine (engine/cpu/kv_commit.h).
  virtual int64_t available_memory_bytes() const = 0;
};

}  // namespace sgl::engine
