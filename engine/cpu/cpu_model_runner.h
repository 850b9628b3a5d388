// The CPU backend of ModelRunner: a DecoderModel, its KV pool and the request-slot token table
// that resolves the overlap pipeline's placeholder ids.
#pragma once

#include <tbb/global_control.h>
#include <tbb/task_arena.h>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "engine/engine_config.h"
#include "engine/model_runner.h"
#include "engine/models/decoder.h"
#include "engine/sampling.h"
#include "engine/step_input_checks.h"
#include "engine/weight_source.h"

namespace sgl::engine::cpu {

class CpuModelRunner final : public ModelRunner {
 public:
  // `source`: where the weights came from, to fill them again after release_weights().
  CpuModelRunner(std::unique_ptr<DecoderModel> model, ModelInfo info, const EngineConfig& cfg,
                 WeightSource source);

  const ModelInfo& info() const override { return info_; }
  Status init_kv_cache(int64_t num_slots, int page_size) override;
  int64_t kv_num_slots() const override { return kv_.num_slots; }
  Status release_kv_cache() override {  // the tensors' memory goes back to the allocator
    KvPool empty;
    empty.dtype = kv_.dtype;
    kv_ = std::move(empty);
    return {};
  }
  Status release_weights() override;
  Status resume_weights() override;
  Status init_lora(const LoraPoolConfig& config) override { return model_->init_lora(config.num_slots); }
  Result<StepOutput> step(const StepInput& input) override;
  Status load_weights_from_disk(const std::string& model_path) override;
  int64_t available_memory_bytes() const override;
  void release_idle_memory() override;
  // The model on the host (engine/cuda/ uploads its weights).
  const DecoderModel& model() const { return *model_; }

  // Tensor parallelism (engine/dist/): the leader rank runs `hook` with each step's batch and its
  // resolved input ids right before the forward (to broadcast them); follower ranks run the same
  // forward through forward_only, without sampling.
  using PreForwardHook = std::function<Status(const ForwardBatch&, const std::vector<int32_t>& ids)>;
  void set_pre_forward_hook(PreForwardHook hook) { pre_forward_ = std::move(hook); }
  // The leader also forwards each LoRA slot load (before applying it) for the followers'
  // install_lora.
  using LoraLoadHook = std::function<Status(const LoraSlotLoad&)>;
  void set_lora_load_hook(LoraLoadHook hook) { lora_load_ = std::move(hook); }
  Status install_lora(const LoraSlotLoad& load) {
    return model_->install_lora(load.slot, load.adapter.get());
  }
  Status forward_only(const ForwardBatch& batch, const std::vector<int32_t>& ids);
  // Checks (dry_run) or loads the checkpoint's slice of this rank: weight swap across ranks.
  Status load_weights_shard(const std::string& model_path, bool dry_run);

 private:
  Result<StepOutput> step_in_arena(const StepInput& input);
  std::unique_ptr<DecoderModel> model_;
  ModelInfo info_;
  KvPool kv_;
  Sampler sampler_;
  LastSampledTokens last_token_;
  // The previous step's logits vector, reused as the next one's storage (its capacity only grows
  // until release_idle_memory).
  std::vector<float> logits_buffer_;
  std::optional<tbb::global_control> threads_;
  std::unique_ptr<tbb::task_arena> arena_;  // EngineConfig::arena_threads; null: the default arena
  PreForwardHook pre_forward_;
  LoraLoadHook lora_load_;
  WeightSource source_;  // the last weights loaded (a weight swap moves it to the new directory)
  bool weights_released_ = false;
};

// One rank's CPU runner: the slice `shard` of the model, collectives through `comm` (null when
// whole). Defined beside create_model_runner (engine/runner_factory.cpp).
Result<std::unique_ptr<CpuModelRunner>> create_cpu_runner(const EngineConfig& cfg, const ShardPlan& shard,
                                                          dist::Communicator* comm);

}  // namespace sgl::engine::cpu
