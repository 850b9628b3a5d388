// The CPU backend of ModelRunner: a DecoderModel, its KV pool and the request-slot token table
// that resolves the overlap pipeline's placeholder ids.
#pragma once

#include <tbb/global_control.h>

#include <memory>
#include <optional>
#include <vector>

#include "engine/engine_config.h"
#include "engine/model_runner.h"
#include "engine/models/decoder.h"
#include "engine/sampling.h"

namespace sgl::engine::cpu {

class CpuModelRunner final : public ModelRunner {
 public:
  CpuModelRunner(std::unique_ptr<DecoderModel> model, ModelInfo info, const EngineConfig& cfg);

  const ModelInfo& info() const override { return info_; }
  Status init_kv_cache(int64_t num_slots, int page_size) override;
  int64_t kv_num_slots() const override { return kv_.num_slots; }
  Result<StepOutput> step(const StepInput& input) override;
  Status load_weights_from_disk(const std::string& model_path) override;
  int64_t available_memory_bytes() const override;

 private:
  Status validate(const StepInput& input) const;

  std::unique_ptr<DecoderModel> model_;
  ModelInfo info_;
  KvPool kv_;
  Sampler sampler_;
  std::vector<int32_t> last_token_;  // per request slot: the token it sampled last
  std::optional<tbb::global_control> threads_;
};

}  // namespace sgl::engine::cpu
