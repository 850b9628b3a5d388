// One sample of a submitted request as the scheduler tracks it: tokens, KV pages, radix lock,
// pipeline state and what has been streamed. Lives on the scheduler thread only (steps in flight
// hold a shared_ptr so the worker can read its sampling params).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/forward_batch.h"
#include "sched/radix_cache.h"
#include "sched/request.h"

namespace sgl::sched {

// Whether sampling a row for `p` needs the request's output ids (frequency, presence or
// repetition penalty).
inline bool has_penalties(const engine::SamplingParams& p) {
  return p.frequency_penalty != 0.0f || p.presence_penalty != 0.0f || p.repetition_penalty != 1.0f;
}

struct Req {
  std::string rid;
  int32_t index = 0;  // sample index of an n > 1 request
  std::shared_ptr<RequestStream> stream;
  std::shared_ptr<const GenerateRequest> spec;  // shared by the samples of one submission
  engine::SamplingParams sampling;              // per-sample (seed + index)
  engine::SamplingParams sampling_min_phase;    // same, with stop ids masked (before min_new_tokens)
  // Structured output state (spec->constraint); the engine's sampler advances it, on the worker.
  std::unique_ptr<engine::TokenConstraint> constraint;
  std::vector<int32_t> constraint_stop_ids;  // the tokens that end a constrained sample
  uint64_t arrival = 0;                      // submission order (fcfs)

  std::vector<int32_t> tokens;      // prompt + known outputs
  std::vector<int32_t> output_ids;  // known outputs
  int64_t prompt_len = 0;
  int64_t sampled = 0;
  // Qwen v1's dynamic NTK alpha, fixed from the prompt length at submission: its KV carries a
  // RoPE base of its own, so such a request neither reuses nor feeds the radix cache.
  int32_t ntk_alpha = 1;
  // Multi-LoRA: the adapter's uid (0: base), which also names its radix namespace, and the runner
  // slot the request holds while it has KV (-1: none).
  uint64_t lora_uid = 0;
  int32_t lora_slot = -1;
  std::vector<std::vector<float>> pending_hidden;  // return_hidden_states: not yet sent
  // return_prompt_hidden: each prompt position's final hidden state as its prefill computes it
  // (empty for positions served from the cache), sent with the first token.
  std::vector<std::vector<float>> prompt_hidden;
  std::vector<std::vector<float>> pending_prompt_hidden;  // the block, not yet sent
  // Whether the prompt's KV may come from and go to the radix cache: not with a dynamic-NTK
  // RoPE base of its own, nor for a prompt given as embeddings (its ids are placeholders).
  bool shares_prefix_cache() const { return ntk_alpha == 1 && !(spec && spec->input_embeds); }

  // KV: positions [0, kv_len) have slots; pages[i] backs positions [i*ps, (i+1)*ps).
  std::vector<int32_t> pages;
  std::vector<int32_t> slot_table;  // the req-to-token table: KV slot of each position [0, kv_len)
  // Bumped whenever slot_table changes other than by appending (SlotLayout copies only appends).
  uint64_t slot_table_version = 0;
  int64_t kv_len = 0;
  int64_t cached_len = 0;          // leading tokens whose pages the radix tree owns (locked)
  RadixNode* last_node = nullptr;  // locked node ending the cached prefix
  int32_t slot = -1;               // request slot of the runner's token table
  int inflight = 0;                // launched steps not yet processed that include this request

  enum class State { kWaiting, kPrefilling, kRunning, kDone };
  State state = State::kWaiting;
  bool prefill_done = false;  // the prompt has been prefilled once (n > 1 siblings may start)
  bool to_abort = false;
  std::string abort_message;
  std::optional<FinishReason> finish;
  bool finish_sent = false;
  std::shared_ptr<Req> first_sibling;  // sample 0 of an n > 1 request (others wait for its prefill)

  int64_t sent = 0;                                // outputs already pushed to the stream
  std::vector<PositionLogprobs> pending_logprobs;  // logprobs of outputs not yet pushed
  int64_t cached_tokens = 0;  // reported: prompt tokens served from the cache at first admission
  bool admitted_once = false;
  bool input_logprobs_sent = false;
  std::vector<PositionLogprobs> input_logprobs;  // accumulated over chunks
  int64_t next_input_logprob_pos = 0;            // next prompt position whose logprob is expected

  // Metrics: when it was submitted and when its current stage began (ReqStage), whether its first
  // token came, and how often the KV pool running out retracted it.
  std::chrono::steady_clock::time_point submitted, stage_start;
  bool first_token_seen = false;
  int32_t retractions = 0;

  int64_t max_new_tokens() const { return spec->stop.max_new_tokens; }
  bool done() const { return state == State::kDone; }
};

}  // namespace sgl::sched
