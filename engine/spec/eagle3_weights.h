// The draft head's weights (private to the loader and the forward).
#pragma once

#include <memory>
#include <vector>

#include "engine/cpu/kernels.h"
#include "engine/spec/eagle3_draft.h"
#include "engine/tensor.h"

namespace sgl::engine::spec {

struct Eagle3Draft::Weights {
  Tensor embed;                    // target's [vocab, H] in the compute dtype
  cpu::PackedWeight fc;            // [H, 3·Ht]
  std::vector<float> input_norm;   // on the embedding
  std::vector<float> hidden_norm;  // on the hidden state
  std::vector<float> post_norm, final_norm;
  cpu::PackedWeight qkv;      // [(Hq + 2·Hkv)·D, 2H]
  cpu::PackedWeight o;        // [H, Hq·D]
  cpu::PackedWeight gate_up;  // [2I, H]
  cpu::PackedWeight down;     // [H, I]
  cpu::PackedWeight lm_head;  // [draft vocab, H]
  std::unique_ptr<cpu::Rope> rope;
};

}  // namespace sgl::engine::spec
