// The CUDA backend of ModelRunner (--device cuda). The model is described and loaded exactly as on
// the CPU (engine/models/: same families, loader and dummy weights), then its bf16 weights are
// uploaded once; the forward runs as cuBLAS GEMMs and the kernels of engine/cuda/kernels.h on one
// stream. Sampling: greedy rows without logprobs are decided on the GPU (only ids cross to the
// host); any other row copies its logits to the host sampler (engine/sampling.h), so every
// sampling option behaves exactly as on the CPU.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "engine/cuda/device.h"
#include "engine/cuda/gemm.h"
#include "engine/engine_config.h"
#include "engine/model_config.h"
#include "engine/model_runner.h"
#include "engine/models/decoder.h"
#include "engine/sampling.h"
#include "engine/step_input_checks.h"

namespace sgl::engine::cuda {

class CudaModelRunner final : public ModelRunner {
 public:
  // Loads the model on the host (as the CPU backend does) and uploads it to device 0.
  static Result<std::unique_ptr<CudaModelRunner>> create(const EngineConfig& cfg);

  const ModelInfo& info() const override { return info_; }
  Status init_kv_cache(int64_t num_slots, int page_size) override;
  int64_t kv_num_slots() const override { return kv_slots_; }
  // The segmented shrink/expand kernels are CPU-only so far (engine/models/decoder_lora.h).
  Status init_lora(const LoraPoolConfig&) override {
    return unsupported(
        "LoRA adapters are not implemented on --device cuda yet; serve them with --device cpu");
  }
  Result<StepOutput> step(const StepInput& input) override;
  Status load_weights_from_disk(const std::string& model_path) override;
  int64_t available_memory_bytes() const override;

 private:
  struct Layer {
    DeviceBuffer qkv, o, gate_up, down, router;                            // bf16 [N, K] (router fp32)
    DeviceBuffer input_norm, post_norm, q_norm, k_norm, qkv_bias, o_bias;  // fp32 (empty when absent)
    DeviceBuffer attn_out_norm, mlp_out_norm;  // sandwich norms, fp32 (empty when the family has none)
    std::vector<DeviceBuffer> expert_gate_up, expert_down;
    DeviceBuffer shared_gate_up, shared_down;  // bf16 shared expert (MoE layers of Qwen2-MoE, Bailing)
    DeviceBuffer shared_gate;                  // fp32 [1, H] (sigmoid-gated shared expert)
    bool moe = false;
    bool dense = false;  // has the dense MLP: every non-MoE layer, and Grok's residual-MoE layers
    int64_t inter = 0, expert_inter = 0, shared_inter = 0;  // 0 when the layer lacks that MLP
    int64_t window = 0;                                     // sliding window of this layer (0: none)
  };
  // Activations, grown to the largest step seen.
  struct Workspace {
    DeviceBuffer meta, x, normed, normed32, qkv, q, attn, delta, gu, act, attn_part, sel, logits, ids,
        logprob, router, topk_ids, topk_w, slot_out, ex_x, ex_gu, ex_act, ex_y, ex_rows;
    DeviceBuffer extra, gate;  // a second MLP output beside the experts' (shared expert, dense), its gate
  };

  // Offsets (int32 words) of a step's metadata arrays inside one block.
  struct MetaLayout {
    int64_t ids, positions, store_slot, kv_base, kv_len, prefix, mask_off, rows, mask, kv_slots, words;
    static MetaLayout make(int64_t tokens, int64_t kv_entries, int64_t mask_bytes);
  };
  struct StepShape {
    int64_t tokens = 0, rows = 0;  // padded to the graph bucket when a graph runs the step
    bool rows_identity = false;    // logits row i is token i (decode): no gather
    bool has_mask = false;
  };
  struct GraphExec {
    cudaGraphExec_t exec = nullptr;
    GraphExec() = default;
    GraphExec(GraphExec&& o) noexcept : exec(std::exchange(o.exec, nullptr)) {}
    GraphExec& operator=(GraphExec&&) = delete;
    ~GraphExec();
  };

  CudaModelRunner(const EngineConfig& cfg, ModelConfig config, FamilyOptions options, ModelInfo info);
  Status init_device();
  Status upload(const DecoderModel& m);
  Status forward_in_groups(const StepInput& in, const std::vector<int32_t>& ids, StepOutput& out);
  Status forward(const StepInput& in, const std::vector<int32_t>& ids, StepOutput& out);
  StepShape fill_meta(const StepInput& in, const std::vector<int32_t>& ids, const MetaLayout& ml,
                      int64_t t_pad, int32_t* hm) const;
  Status reserve_workspace(Workspace& w, int64_t tokens, int64_t rows) const;
  Status encode(const int32_t* dm, const MetaLayout& ml, const StepShape& sh, Workspace& w,
                const std::vector<int>& capture_layers, StepOutput* out);
  Status capture_graph(const int32_t* dm, const MetaLayout& ml, const StepShape& sh);
  int64_t graph_bucket(int64_t tokens) const;
  // The MLP part of a layer, from `normed` (bf16, and normed32 on MoE layers) into ws.delta.
  Status ffn(const Layer& w, int64_t t, Workspace& ws);
  // delta[t, H] = down(act(gate_up · x)): the dense MLP or the shared expert (ws.gu, ws.act scratch).
  Status gated_mlp(const uint16_t* x, int64_t t, const DeviceBuffer& gate_up, const DeviceBuffer& down,
                   int64_t inter, float* out, Workspace& ws);
  // act(gu) by the family's activation (SiLU or GELU tanh).
  void activation_mul(const float* gu, int64_t m, int64_t inter, uint16_t* out) const;
  // The routed experts into ws.delta (MoE layers never run in a graph: ws is ws_).
  Status moe(const Layer& w, int64_t t, Workspace& ws);

  EngineConfig cfg_;
  ModelConfig config_;
  FamilyOptions options_;
  ModelInfo info_;
  int num_sms_ = 0;
  Stream stream_;
  Gemm gemm_;
  DeviceBuffer embed_, lm_head_, final_norm_, inv_freq_;
  std::vector<Layer> layers_;
  std::vector<DeviceBuffer> k_cache_, v_cache_;  // per layer: bf16 [slots + 1 scratch, kv_heads, head_dim]
  int64_t kv_slots_ = 0;
  Workspace ws_;
  // CUDA graphs of decode steps, per padded batch size; their own workspace and metadata block,
  // allocated once for the largest bucket so that every captured address stays valid.
  bool graphs_enabled_ = false;
  int64_t graph_max_bs_ = 0;
  int64_t graph_kv_capacity_ = 0;
  bool graph_ws_ready_ = false;
  DeviceBuffer graph_meta_;
  Workspace graph_ws_;
  std::map<int64_t, GraphExec> graphs_;
  PinnedBuffer host_meta_, host_ids_;
  Sampler sampler_;
  LastSampledTokens last_token_;
};

}  // namespace sgl::engine::cuda
