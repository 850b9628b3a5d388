// EAGLE3 speculative decoding over a target ModelRunner and a draft head (SGLang's EAGLEWorker
// without overlap). Every round, for a batch of requests:
//   1. draft: num_steps − 1 draft forwards grow each request's token tree (draft KV of the tree
//      rows goes to the draft's scratch slots);
//   2. verify: ONE target forward over, per request, its pending tokens (those whose target KV
//      is not computed yet; the last is the root) and every tree node as its own one-token
//      segment whose prefix lists the slots of its ancestors — each node is computed exactly as
//      a plain decode step at its position, so greedy speculation reproduces greedy decoding;
//   3. accept the longest matching path plus the target's bonus token (greedy, or tree
//      speculative sampling at temperature > 0);
//   4. draft extend over the accepted path with the target's hidden states of those rows.
// Target KV of accepted drafts already sits at their positions when they lie on the tree's
// best-scoring path (the common case); otherwise they stay pending and are recomputed by the
// next round's verify. KV slots come from the caller (the scheduler's pages): a request needs
// slots for positions [0, slots_needed()) before a round and keeps [0, tokens.size()) after it.
#pragma once

#include <tbb/task_arena.h>

#include <cstdint>
#include <random>
#include <vector>

#include "base/result.h"
#include "engine/model_runner.h"
#include "engine/sampling.h"
#include "engine/spec/eagle3_draft.h"
#include "sched/spec/spec_config.h"

namespace sgl::sched::spec {

// One request as the worker sees it. The caller owns the token list and the slot table.
struct SpecSeq {
  std::vector<int32_t>* tokens = nullptr;            // prompt + outputs; rounds append accepted ones
  const std::vector<int32_t>* slot_table = nullptr;  // target (and mirrored draft) slot per position
  const engine::SamplingParams* params = nullptr;    // null: greedy
  int64_t committed = 0;   // positions [0, committed) have target KV (set by prefill, then by rounds)
  int32_t lora_slot = -1;  // the request's LoRA slot: verification runs the adapter, drafting the base

  // How plain decoding would sample the request's next token (set before each round): params,
  // the prompt and output ids its penalties see, logprob options, step = outputs so far. A round
  // samples the tree node at depth d as output step + d, exactly as plain decoding would at that
  // point of the path: the path's tokens join the output ids, and `min_phase_params` (stop ids
  // masked) apply while that output index is below `min_new_tokens`.
  engine::RowSampling next_row;
  const engine::SamplingParams* min_phase_params = nullptr;
  int64_t min_new_tokens = 0;
  // Filled by each round: per emitted token (accepted drafts, then the bonus), the token and its
  // logprobs when next_row asks for them.
  std::vector<engine::RowResult> emitted;

  // Draft state after the last draft extend: top-k of its last row and that row's hidden state.
  std::vector<float> top_p;
  std::vector<int32_t> top_ids;
  std::vector<float> hidden;
  std::mt19937_64 rng;  // sampled verification
};

struct RoundStats {
  int64_t rounds = 0;                 // request-rounds verified
  int64_t accepted_drafts = 0;        // draft tokens accepted
  double avg_accept_length() const {  // tokens per verify (accepted drafts + the bonus token)
    return rounds == 0 ? 0.0 : static_cast<double>(rounds + accepted_drafts) / static_cast<double>(rounds);
  }
};

class EagleWorker {
 public:
  EagleWorker(engine::ModelRunner& target, engine::spec::Eagle3Draft& draft, SpecConfig cfg);

  const SpecConfig& config() const { return cfg_; }
  // Target layers whose hidden states prefill forwards must capture (ForwardBatch field).
  const std::vector<int>& capture_layers() const { return draft_.config().capture_layers; }
  // Slots a request needs before a round: its tokens plus the tree's extra nodes.
  int64_t slots_needed(const SpecSeq& s) const {
    return static_cast<int64_t>(s.tokens->size()) + cfg_.num_draft_tokens - 1;
  }

  // After a prefill forward (or chunk) of positions [from, to): runs the draft over those
  // positions with `aux`, the target's captured states of those rows ((to − from) × 3·H, see
  // gather_aux). Token `to` must be known (the next prompt token, or the sampled first output of
  // the final chunk); when it is the last token, the request's draft state is set from the row.
  struct ExtendItem {
    SpecSeq* seq;
    int64_t from, to;
    std::vector<float> aux;
  };
  // The captured states of batch tokens [tok0, tok0 + count) of a forward run with
  // capture_hidden_layers = capture_layers(), concatenated per token as fc expects.
  std::vector<float> gather_aux(const engine::StepOutput& out, int64_t tok0, int64_t count) const;
  Status draft_extend(const std::vector<ExtendItem>& items);

  // One speculative round for every request (each must have draft state and slots). Appends each
  // request's accepted tokens and bonus token to its tokens; returns how many each got.
  Result<std::vector<int32_t>> decode_round(const std::vector<SpecSeq*>& seqs);

  const RoundStats& stats() const { return stats_; }

 private:
  struct Drafted;
  Result<std::vector<int32_t>> decode_group(const std::vector<SpecSeq*>& seqs);
  Status draft_trees(const std::vector<SpecSeq*>& seqs, std::vector<Drafted>& trees);
  void set_top(SpecSeq& s, const float* logits) const;
  engine::spec::Eagle3Draft::Output draft_forward(const engine::ForwardBatch& b, const float* hidden,
                                                  int64_t width);

  engine::ModelRunner& target_;
  engine::spec::Eagle3Draft& draft_;
  SpecConfig cfg_;
  engine::LogprobMode logprob_mode_;  // as the target's sampler reports logprobs
  RoundStats stats_;
  tbb::task_arena single_thread_{1};  // draft forwards: see draft_forward
};

}  // namespace sgl::sched::spec
