// Speculative decoding settings (SGLang's --speculative-* flags).
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"

namespace sgl::sched::spec {

struct SpecConfig {
  int num_steps = 3;         // --speculative-num-steps: draft forwards per round (depth of the tree)
  int topk = 1;              // --speculative-eagle-topk: branches kept per step (1 = chain)
  int num_draft_tokens = 4;  // --speculative-num-draft-tokens: tree nodes verified, root included
  // RoPE position of the first draft-decode row relative to the last draft-extend row. SGLang
  // starts draft decoding at seq_len + 1 (one position past the natural seq_len); 1 matches it.
  int draft_position_shift = 1;
  uint64_t seed = 0;  // sampled verification of requests without their own seed
};

// steps ≥ 1, topk ≥ 1, and 2 ≤ draft tokens ≤ what the draft can produce plus the root
// (steps + 1 for a chain). The server applies SGLang's stricter 1 + steps·topk bound.
Status validate(const SpecConfig& cfg);

}  // namespace sgl::sched::spec
