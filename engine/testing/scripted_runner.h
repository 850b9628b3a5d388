// A test hook: wraps a real runner and replaces every sampled token with a fixed script, so an
// end-to-end test can make a tiny model "emit" a tool call or a <think> block and exercise the
// whole server path (template → generation → parsers → OpenAI JSON) on real forwards.
// Enabled only by the server's hidden `--test-scripted-output` flag.
#pragma once

#include <memory>
#include <unordered_map>
#include <vector>

#include "engine/model_runner.h"

namespace sgl::engine {

class ScriptedRunner final : public ModelRunner {
 public:
  // Output token i of every request is script[i] (the last one repeats past the end).
  ScriptedRunner(std::unique_ptr<ModelRunner> inner, std::vector<int32_t> script);

  const ModelInfo& info() const override { return inner_->info(); }
  Status init_kv_cache(int64_t num_slots, int page_size) override {
    return inner_->init_kv_cache(num_slots, page_size);
  }
  int64_t kv_num_slots() const override { return inner_->kv_num_slots(); }
  Status release_kv_cache() override { return inner_->release_kv_cache(); }
  Status release_weights() override { return inner_->release_weights(); }
  Status resume_weights() override { return inner_->resume_weights(); }
  Status init_lora(const LoraPoolConfig& config) override { return inner_->init_lora(config); }
  Result<StepOutput> step(const StepInput& input) override;
  Status load_weights_from_disk(const std::string& model_path) override {
    return inner_->load_weights_from_disk(model_path);
  }
  int64_t available_memory_bytes() const override { return inner_->available_memory_bytes(); }
  void release_idle_memory() override { inner_->release_idle_memory(); }

 private:
  std::unique_ptr<ModelRunner> inner_;
  std::vector<int32_t> script_;
  // The inner runner resolves placeholders to the tokens IT sampled; ours differ, so they are
  // resolved here first from the scripted tokens.
  std::unordered_map<int32_t, int32_t> last_token_;
};

}  // namespace sgl::engine
