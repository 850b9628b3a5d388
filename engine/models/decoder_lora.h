// The decoder's LoRA slots: adapters as one rank computes them, and the per-segment shrink and
// expand products added after each base projection (never W + B·A materialised).
//
// For a projection y = x·Wᵀ a row using slot s gets y += s_m·(x·A_mᵀ)·B_mᵀ. q, k and v share one
// shrink GEMM (their A's stacked), as do gate and up. Under tensor parallelism each rank holds the
// slice of its base weights: B's rows of its heads / intermediate columns for the column-parallel
// q/k/v/gate/up, A's columns of them for the row-parallel o/down, whose expand of a partial shrink
// is a partial sum the block's all-reduce completes (the product is linear), so no extra
// collective. Rows of a slot are computed together, each row alone by the GEMMs (batch-invariant).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "base/result.h"
#include "engine/cpu/kernels.h"
#include "engine/forward_batch.h"
#include "engine/lora/lora_adapter.h"
#include "engine/model_config.h"
#include "engine/models/shard_plan.h"

namespace sgl::engine {

class LoraSlots {
 public:
  // The slots start empty; `compute` is the base model's compute dtype.
  void init(int num_slots, DType compute) {
    slots_.clear();
    slots_.resize(static_cast<size_t>(num_slots));
    compute_ = compute;
  }
  int num_slots() const { return static_cast<int>(slots_.size()); }
  bool enabled() const { return !slots_.empty(); }
  // Puts `adapter` (null: nothing) into `slot`, as this rank's slice of it.
  Status install(int slot, const LoraAdapter* adapter, const ModelConfig& c, const ShardPlan& shard);
  // Every LoRA segment names a slot that holds an adapter.
  Status validate(const ForwardBatch& batch) const;

  // The projection groups an adapter's terms are added to.
  enum class Group { kQkv, kO, kGateUp, kDown };
  // y ([t, y_width], this rank's output columns of the group: q|k|v, gate|up; partial sums for
  // o and down) += each LoRA segment's adapter term for its rows of x ([t, in], this rank's
  // inputs). A no-op for rows of the base model.
  void add(Group group, int layer, const ForwardBatch& batch, const float* x, int64_t in, float* y,
           int64_t y_width) const;

 private:
  // One module's expand: B [out_local, rank] and where its output columns start in y.
  struct Expand {
    int32_t rank = 0;
    float scale = 0.0f;
    cpu::PackedWeight b;
    int64_t col0 = 0;
  };
  // A projection group: one shrink (A's of its modules stacked by rows) and its expands.
  struct Product {
    cpu::PackedWeight a;  // [Σ rank, in_local]; empty (n() == 0) when no module of the group is adapted
    std::vector<Expand> expands;
    bool empty() const { return expands.empty(); }
  };
  struct Layer {
    Product qkv, o, gate_up, down;
    const Product& of(Group g) const;
  };
  struct Slot {
    uint64_t uid = 0;  // 0: empty
    std::vector<Layer> layers;
  };

  std::vector<Slot> slots_;
  DType compute_ = DType::kF32;
};

}  // namespace sgl::engine
