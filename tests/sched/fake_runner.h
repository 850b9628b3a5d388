// A deterministic stand-in for the engine: the "KV" of a position is a hash of the whole prefix
// up to it, stored in the slot the scheduler assigned, and the next token is derived from the
// last position's hash. Any wrong slot, prefix length or placeholder changes the outputs, so
// equality with the solo reference (fake_reference) is a real check of the scheduler.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "engine/model_runner.h"

namespace sgl::sched::testing {

inline uint64_t mix(uint64_t h, uint64_t x) {
  h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  h *= 0xff51afd7ed558ccdull;
  return h ^ (h >> 33);
}

constexpr int64_t kFakeVocab = 1000;

// The token sampled after a prefix whose last hash is h. With a penalty set, the token also
// depends on every output id so far (as real penalties do), so a stale output list shows.
int32_t fake_sample(uint64_t h, const engine::SamplingParams* p, int64_t step,
                    const std::vector<int32_t>* outputs = nullptr);

class FakeRunner final : public engine::ModelRunner {
 public:
  explicit FakeRunner(std::vector<int32_t> eos = {}, int64_t context_length = 1 << 16);
  const engine::ModelInfo& info() const override { return info_; }
  Status init_kv_cache(int64_t num_slots, int page_size) override;
  int64_t kv_num_slots() const override { return static_cast<int64_t>(kv_.size()); }
  Status release_kv_cache() override {  // a step before init_kv_cache again would fail
    kv_.clear();
    kv_pos_.clear();
    return ok_status();
  }
  Status release_weights() override {  // a step before resume_weights would fail
    weights_released_ = true;
    return ok_status();
  }
  Status resume_weights() override {
    weights_released_ = false;
    return ok_status();
  }
  bool weights_released() const { return weights_released_; }
  Result<engine::StepOutput> step(const engine::StepInput& input) override;
  Status load_weights_from_disk(const std::string&) override { return ok_status(); }
  int64_t available_memory_bytes() const override { return 1 << 20; }

 private:
  engine::ModelInfo info_;
  bool weights_released_ = false;
  std::vector<uint64_t> kv_;
  std::vector<int32_t> kv_pos_;
  std::vector<int32_t> last_token_;
};

// Forwards everything to a FakeRunner: a test derives from it and overrides step() to gate, slow
// down or count the forwards, calling FakeRunner's step through forward_step().
class WrappedFakeRunner : public engine::ModelRunner {
 public:
  const engine::ModelInfo& info() const override { return inner_.info(); }
  Status init_kv_cache(int64_t n, int ps) override { return inner_.init_kv_cache(n, ps); }
  int64_t kv_num_slots() const override { return inner_.kv_num_slots(); }
  Status release_kv_cache() override { return inner_.release_kv_cache(); }
  Status release_weights() override { return inner_.release_weights(); }
  Status resume_weights() override { return inner_.resume_weights(); }
  bool weights_released() const { return inner_.weights_released(); }
  Status load_weights_from_disk(const std::string& p) override { return inner_.load_weights_from_disk(p); }
  int64_t available_memory_bytes() const override { return inner_.available_memory_bytes(); }

 protected:
  Result<engine::StepOutput> forward_step(const engine::StepInput& in) { return inner_.step(in); }

 private:
  FakeRunner inner_;
};

// What a request generates alone: greedy (or seeded) tokens until max_new / eos / stop ids.
std::vector<int32_t> fake_reference(const std::vector<int32_t>& prompt, int64_t max_new,
                                    const engine::SamplingParams& params,
                                    const std::vector<int32_t>& stop_ids, int64_t min_new = 0);

}  // namespace sgl::sched::testing
