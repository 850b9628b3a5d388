// What one generated output looks like to the protocol layer, independent of the scheduler's
// types: the routes fill these from the scheduler's chunks and the writers serialise them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sgl::server {

struct FinishReason {
  enum class Type { kNone, kLength, kStopToken, kStopString, kAbort };
  Type type = Type::kNone;
  int64_t length = 0;              // kLength: the effective max_new_tokens
  int32_t matched_token = 0;       // kStopToken
  std::string matched_str;         // kStopString
  std::string message;             // kAbort
  std::optional<int> status_code;  // kAbort

  bool finished() const { return type != Type::kNone; }
  // The OpenAI string: "length", "stop", "abort" (null when not finished).
  const char* openai_name() const;
};

// One [logprob, token_id, text] triple; the logprob is null for the first prompt token.
struct TokenLogprob {
  std::optional<float> logprob;
  int32_t token_id = 0;
  std::optional<std::string> text;
};
using TopLogprobs = std::optional<std::vector<TokenLogprob>>;  // null where none

struct LogprobArrays {
  bool include_input = false;  // input_* keys (logprob_start_len >= 0 or top/ids requested)
  bool include_top = false;    // *_top_logprobs keys (top_logprobs_num > 0)
  bool include_ids = false;    // *_token_ids_logprobs keys (token_ids_logprob given)
  std::vector<TokenLogprob> input_token_logprobs, output_token_logprobs;
  std::vector<TopLogprobs> input_top_logprobs, output_top_logprobs;
  std::vector<TopLogprobs> input_token_ids_logprobs, output_token_ids_logprobs;  // in the asked order
};

struct GenerateOutput {
  std::string text;
  bool omit_text = false;  // --skip-tokenizer-init: SGLang answers ids only, without a "text" key
  std::vector<int32_t> output_ids;
  std::string rid;
  FinishReason finish;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;
  // Output tokens up to and including the end of the reasoning block (SGLang's meta_info key;
  // counted only for a request that requires reasoning: /generate's require_reasoning, or a chat
  // request whose reasoning is separated).
  int64_t reasoning_tokens = 0;
  // return_hidden_states: the final hidden state (after the final norm) behind each output token.
  std::optional<std::vector<std::vector<float>>> hidden_states;
  // With return_prompt_hidden: the first token's state as every computed prompt position's
  // ([positions][hidden]), written as hidden_states' first element (SGLang's layout).
  std::vector<std::vector<float>> prompt_hidden_states;
  // return_routed_experts: meta_info.routed_experts, null until the final chunk brings the base64
  // of its int32 ids ([positions][layers][top-k], little-endian, SGLang's layout).
  bool want_routed_experts = false;
  std::optional<std::string> routed_experts;
  std::optional<double> e2e_latency;  // only once finished
  std::optional<LogprobArrays> logprobs;
  std::optional<size_t> index;  // stream events of a batch name their output
};

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;
  bool report_cached = false;  // --enable-cache-report
  int64_t reasoning_tokens = 0;
};

}  // namespace sgl::server
