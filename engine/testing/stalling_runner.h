// A runner whose Nth forward stalls (sleeps for an hour first): makes a hung step reproducible, so
// that tests can drive --watchdog-timeout and --crash-dump-folder end to end (hidden server flag
// --test-stall-step N).
#pragma once

#include <chrono>
#include <memory>
#include <thread>

#include "engine/model_runner.h"

namespace sgl::engine {

class StallingRunner final : public ModelRunner {
 public:
  StallingRunner(std::unique_ptr<ModelRunner> inner, int64_t stall_step)
      : inner_(std::move(inner)), stall_step_(stall_step) {}

  const ModelInfo& info() const override { return inner_->info(); }
  Status init_kv_cache(int64_t num_slots, int page_size) override {
    return inner_->init_kv_cache(num_slots, page_size);
  }
  int64_t kv_num_slots() const override { return inner_->kv_num_slots(); }
  Status release_kv_cache() override { return inner_->release_kv_cache(); }
  Status release_weights() override { return inner_->release_weights(); }
  Status resume_weights() override { return inner_->resume_weights(); }
  Status init_lora(const LoraPoolConfig& config) override { return inner_->init_lora(config); }
  Result<StepOutput> step(const StepInput& input) override {
    if (++steps_ == stall_step_) std::this_thread::sleep_for(std::chrono::hours(1));
    return inner_->step(input);
  }
  Status load_weights_from_disk(const std::string& model_path) override {
    return inner_->load_weights_from_disk(model_path);
  }
  int64_t available_memory_bytes() const override { return inner_->available_memory_bytes(); }
  void release_idle_memory() override { inner_->release_idle_memory(); }

 private:
  std::unique_ptr<ModelRunner> inner_;
  int64_t stall_step_;
  int64_t steps_ = 0;  // only the step worker's thread calls step()
};

}  // namespace sgl::engine
