// What the scheduler hands the engine each step: a ragged batch of token segments over paged KV,
// and how to sample each logits row. The engine never decides which KV slots a request gets.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace sgl::engine {

class TokenConstraint;  // engine/token_constraint.h

// One request's part of a forward. Its new tokens attend to its `prefix_len` cached tokens and
// causally to each other (or through `tree_mask` when verifying a draft tree).
struct Segment {
  int32_t prefix_len = 0;   // tokens of this request already in the KV cache
  int32_t new_len = 0;      // tokens computed in this forward (prefill chunk, 1 for decode, drafts)
  int64_t slot_offset = 0;  // into ForwardBatch::kv_slots: prefix_len + new_len slots start here
  // Logits wanted for new tokens [logits_start, new_len); -1 = none (a non-final prefill chunk).
  // Default: only the last token.
  int32_t logits_start = -1;
  // Optional: new_len x new_len row-major mask among new tokens (1 = may attend), replacing the
  // causal rule; used by speculative tree verification. Empty = causal.
  std::vector<uint8_t> tree_mask;
  // Qwen v1's dynamic NTK: RoPE for this request uses base·α^(d/(d−2)), α fixed from its prompt
  // length (ModelInfo::dynamic_ntk_alpha); 1 = the model's own base.
  int32_t ntk_alpha = 1;
  // Return the final hidden state (after the final norm) of every new token of this segment in
  // StepOutput::segment_hidden (SGLang's return_hidden_states over a prompt).
  bool return_all_hidden = false;
  // Multi-LoRA: the runner's adapter slot this request's projections add (StepInput::lora_loads
  // fills slots); -1 = the base model alone.
  int32_t lora_slot = -1;
  // SGLang's input_embeds: rows of hidden_size floats for the request's positions
  // [input_embeds_start, input_embeds_start + rows) (its prompt); a new token whose position
  // prefix_len + i falls there takes its row instead of its id's embedding (the model's embedding
  // scale still applies). Null: ids only.
  std::shared_ptr<const std::vector<float>> input_embeds;
  int32_t input_embeds_start = 0;
};

// Placeholder input id: "the token last sampled for request slot s", resolved by the engine when
// the step runs (the overlap pipeline launches step N+1 before reading step N's tokens).
constexpr int32_t placeholder_token(int32_t req_slot) { return -1 - req_slot; }
constexpr bool is_placeholder(int32_t id) { return id < 0; }
constexpr int32_t placeholder_slot(int32_t id) { return -1 - id; }

struct ForwardBatch {
  std::vector<int32_t> input_ids;  // sum(new_len); may hold placeholder_token(slot)
  std::vector<int32_t> positions;  // sum(new_len); usually prefix_len + i
  std::vector<Segment> segments;
  // KV slot of every position (prefix then new) of each segment, from its slot_offset. Segments'
  // ranges need not be adjacent or in order: the scheduler keeps them in place across steps, and
  // entries between them are unused (but valid slot numbers). Index only through slot_offset.
  std::vector<int32_t> kv_slots;
  std::vector<int> capture_hidden_layers;  // layer indices whose output hidden states to return
  // Each logits row's final hidden state (after the final norm, the LM head's input) in
  // RowResult::hidden: SGLang's return_hidden_states and last-token embeddings.
  bool return_row_hidden = false;
  // Record per-segment statistics of the intermediate tensors (engine/tensor_stats.h).
  bool trace_precision = false;
  // Return every token's top-k routed expert ids per layer (StepOutput::routed_experts): SGLang's
  // return_routed_experts. MoE models only.
  bool capture_routed_experts = false;

  int64_t num_tokens() const { return static_cast<int64_t>(input_ids.size()); }
  int64_t num_logit_rows() const {
    int64_t n = 0;
    for (const auto& s : segments) n += s.logits_start < 0 ? 0 : s.new_len - s.logits_start;
    return n;
  }
  // The token index (into input_ids) of each logits row, in row order.
  std::vector<int64_t> logit_token_indices() const {
    std::vector<int64_t> rows;
    int64_t tok = 0;
    for (const auto& s : segments) {
      if (s.logits_start >= 0)
        for (int32_t i = s.logits_start; i < s.new_len; ++i) rows.push_back(tok + i);
      tok += s.new_len;
    }
    return rows;
  }
};

// Sampling knobs of one request (validated upstream; the engine trusts them).
struct SamplingParams {
  float temperature = 1.0f;  // < 1e-6 → greedy
  float top_p = 1.0f;
  int32_t top_k = -1;  // -1 = off
  float min_p = 0.0f;
  float frequency_penalty = 0.0f;
  float presence_penalty = 0.0f;
  float repetition_penalty = 1.0f;
  std::vector<std::pair<int32_t, float>> logit_bias;
  std::optional<uint64_t> seed;  // same seed + same request → same tokens
  bool greedy() const { return temperature < 1e-6f || top_k == 1; }
};

// How to sample one logits row. Rows appear in ForwardBatch order (segment, then token).
struct RowSampling {
  const SamplingParams* params = nullptr;  // null → greedy, no penalties
  int32_t req_slot = -1;                   // request slot whose token table gets the sampled id (-1: none)
  int64_t step = 0;                        // output index of this token (seeded RNG stream position)
  // Tokens already generated by the request (for frequency/presence/repetition penalties).
  const std::vector<int32_t>* output_ids = nullptr;
  const std::vector<int32_t>* prompt_ids = nullptr;  // repetition penalty also covers the prompt
  bool return_logprob = false;
  int32_t top_logprobs_num = 0;
  std::vector<int32_t> token_ids_logprob;  // extra ids whose logprobs to report
  bool sample = true;                      // false: only logprobs of the row (prompt positions)
  // Structured output: only tokens it allows are sampled, and the chosen one is reported to it
  // (owned by the request; null → unconstrained).
  TokenConstraint* constraint = nullptr;
};

struct TokenLogprob {
  int32_t token = 0;
  float logprob = 0.0f;
};

struct RowResult {
  int32_t token = -1;    // sampled id (when RowSampling::sample)
  float logprob = 0.0f;  // log p(token) as SGLang reports it (processed or original mode: engine/sampling.h)
  std::vector<TokenLogprob> top;        // top_logprobs_num best, descending
  std::vector<TokenLogprob> requested;  // for token_ids_logprob
  std::vector<float> hidden;            // ForwardBatch::return_row_hidden: hidden_size floats
};

}  // namespace sgl::engine
