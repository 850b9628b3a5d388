// What the server hands the scheduler for one generation, and the per-request output stream it
// reads back. No tokenizer, HTTP or JSON here: stop strings are checked through an interface the
// server implements with its tokenizer.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/forward_batch.h"
#include "engine/lora/lora_adapter.h"
#include "engine/token_constraint.h"

namespace sgl::sched {

// Checks a request's decoded tail for stop strings. The server builds one per request (holding
// the stop strings and the tokenizer); the scheduler calls it on its thread after every new
// token, so it must be quick and must not block. Returns the matched stop string, if any.
class StopStringChecker {
 public:
  virtual ~StopStringChecker() = default;
  // output_ids: every token generated so far (the newest `num_new` are new since the last call).
  virtual std::optional<std::string> check(const std::vector<int32_t>& output_ids, size_t num_new) = 0;
};

struct StopConditions {
  int64_t max_new_tokens = 128;
  int64_t min_new_tokens = 0;  // EOS / stop ids / stop strings are ignored before this many tokens
  bool ignore_eos = false;     // ignore the model's EOS ids (stop_token_ids still apply)
  std::vector<int32_t> stop_token_ids;
  std::shared_ptr<StopStringChecker> stop_strings;  // null: no stop strings
  bool no_stop_trim = false;  // informational: the server keeps the matched string in the text
};

struct LogprobOptions {
  bool return_logprob = false;
  int64_t logprob_start_len = -1;  // -1: output tokens only; k ≥ 0: prompt tokens from k on too
  int32_t top_logprobs_num = 0;
  std::vector<int32_t> token_ids_logprob;
};

struct GenerateRequest {
  std::string rid;  // unique among live requests (the server makes a uuid when absent)
  std::vector<int32_t> input_ids;
  engine::SamplingParams sampling;
  StopConditions stop;
  LogprobOptions logprob;
  // n > 1: n samples of one prompt. The prompt is prefilled once and its KV shared through the
  // radix cache; sample i uses seed + i when a seed is given. Chunks carry the sample index.
  int32_t n = 1;
  // Structured output (json_schema / regex / ebnf): each sample gets its own constraint, which
  // ends the sample when it accepts a stop token. Null: unconstrained.
  std::shared_ptr<const engine::TokenConstraintFactory> constraint;
  // Each output token's final hidden state (the row that chose it: the prompt's last position for
  // the first), in OutputChunk::hidden_states — SGLang's return_hidden_states, and embeddings.
  bool return_hidden_states = false;
  // With return_hidden_states: the first token's state comes as the final hidden state of every
  // prompt position the request computed (OutputChunk::prompt_hidden; SGLang's first element of
  // meta_info.hidden_states, [prompt positions][hidden]); later tokens as above.
  bool return_prompt_hidden = false;
  // Multi-LoRA: the adapter this request runs with (null: the base model). Its prefix cache is
  // the adapter's own (keyed by its uid), and it waits while its batch has no slot for it.
  std::shared_ptr<const engine::LoraAdapter> lora;
  // SGLang's input_embeds: the prompt given as embeddings (input_ids.size() rows of hidden_size
  // floats, in place of the embedding table's rows; input_ids then hold placeholders the length of
  // the prompt). Such a prompt never shares the prefix cache: its ids do not identify it.
  std::shared_ptr<const std::vector<float>> input_embeds;
  // SGLang's return_routed_experts: the final chunk carries the top-k expert ids per layer of
  // positions [routed_experts_start_len, prompt + output − 1) (needs the scheduler's
  // enable_return_routed_experts).
  bool return_routed_experts = false;
  int64_t routed_experts_start_len = 0;
};

struct FinishReason {
  enum class Type { kStop, kLength, kAbort };
  Type type = Type::kStop;
  std::optional<int32_t> matched_token;       // stop: EOS / stop_token_ids id
  std::optional<std::string> matched_string;  // stop: stop string (server trims unless no_stop_trim)
  int64_t length = 0;                         // length: max_new_tokens
  std::string message;                        // abort: why
};
const char* finish_type_name(FinishReason::Type t);  // "stop" | "length" | "abort"

// Input (prompt) logprob of one position; the first prompt token has none (logprob = nullopt).
struct PositionLogprobs {
  int32_t token = 0;
  std::optional<float> logprob;
  std::vector<engine::TokenLogprob> top;        // top_logprobs_num entries, descending
  std::vector<engine::TokenLogprob> requested;  // token_ids_logprob entries
};

// New output since the previous chunk of the same sample. The last chunk of a sample has finish.
struct OutputChunk {
  int32_t index = 0;                              // sample index (0 .. n-1)
  std::vector<int32_t> token_ids;                 // new tokens
  std::vector<PositionLogprobs> output_logprobs;  // one per new token when return_logprob
  std::vector<PositionLogprobs> input_logprobs;   // prompt positions, in the first chunk only
  std::vector<std::vector<float>> hidden_states;  // one per new token when return_hidden_states
  std::vector<std::vector<float>> prompt_hidden;  // return_prompt_hidden: the prompt's rows, once
  // return_routed_experts, in the final chunk: rows × num_layers × num_experts_per_tok ids.
  std::optional<std::vector<int32_t>> routed_experts;
  std::optional<FinishReason> finish;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;  // so far
  int64_t cached_tokens = 0;
};

// Thread-safe single-consumer stream of one submission's chunks. The scheduler pushes; the server
// drains without blocking. `notify` runs on the scheduler thread whenever chunks become available
// after the consumer's last drain (coalesced), so it must only post work (e.g. to an Asio executor).
class RequestStream {
 public:
  RequestStream(std::string rid, int32_t n, std::function<void()> notify)
      : rid_(std::move(rid)), remaining_(n), notify_(std::move(notify)) {}

  const std::string& rid() const { return rid_; }
  // Moves every available chunk into `out` (appending); returns how many.
  size_t drain(std::vector<OutputChunk>& out);
  // True once every sample has pushed its final chunk (there may still be chunks to drain).
  bool all_finished() const { return remaining_.load(std::memory_order_acquire) == 0; }

  // Scheduler side.
  void push(OutputChunk chunk);

 private:
  std::string rid_;
  // A short critical section on each side: one push per request per step and a swap per drain
  // cost less than a lock-free queue that allocates a page for every (large) chunk.
  std::mutex mu_;
  std::vector<OutputChunk> chunks_;
  std::atomic<int32_t> remaining_;
  std::atomic<bool> pending_{false};
  std::function<void()> notify_;
};

}  // namespace sgl::sched
