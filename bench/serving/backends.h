// The request traffic of each bench_serving backend: which route, what body, and how to read its
// stream. One place, so bench_serving and bench_one_batch_server speak exactly SGLang's dialects.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace sgl::bench {

enum class Api { kNativeGenerate, kCompletions, kChatCompletions };

// sglang, sgl-jax, sglang-native → /generate; sglang-oai, vllm, lmdeploy, openai → /v1/completions;
// sglang-oai-chat, vllm-chat, lmdeploy-chat, openai-chat → /v1/chat/completions. SGLang-JAX's trt,
// truss and gserver clients speak other servers' protocols (its gserver is not implemented at all):
// refused, naming the backend.
Result<Api> api_of_backend(std::string_view backend);
std::string_view route_of(Api api);

struct ChatMessage {
  std::string role, content;
};

struct RequestSpec {
  std::string prompt;              // text prompt (or empty when input_ids are given)
  std::vector<int32_t> input_ids;  // native API only (--tokenize-prompt)
  // Chat API: the conversation so far (multi-turn datasets); empty → one user message `prompt`.
  std::vector<ChatMessage> messages;
  // Multi-turn (--gsp-num-turns > 1): later user turns, each sent after the reply to the previous
  // one with the whole conversation so far; every turn is a request of its own in the results.
  std::vector<std::string> next_turns;
  int64_t output_len = 0;
  bool ignore_eos = true;
  bool stream = true;
  std::string model;
  std::string extra_body_json;  // --extra-request-body: a JSON object merged at top level
  std::string lora_name;        // --lora-name: the adapter this request names (lora_path)
  bool return_logprob = false;  // native API: --return-logprob
  bool return_routed_experts = false;
  std::string routing_key;  // --gsp-send-routing-key: sent as X-SMG-Routing-Key
};
std::string build_request_body(Api api, const RequestSpec& spec);

// One parsed SSE event of a streamed response.
struct StreamEvent {
  std::string text_delta;                    // new text in this event
  std::optional<int64_t> completion_tokens;  // cumulative, when the server reports it
  std::optional<int64_t> cached_tokens;
  std::optional<int64_t> prompt_tokens;  // as the server counted them (multi-turn prompts grow)
  std::optional<std::string> finish_reason;
  std::string error;  // non-empty: the event was an error object
};

// Reads events of one response in order; the native API sends cumulative text, which it diffs.
class StreamReader {
 public:
  explicit StreamReader(Api api) : api_(api) {}
  // `data` is the payload after "data: " (not "[DONE]").
  StreamEvent parse(std::string_view data);
  // A non-streamed response body, as one event.
  StreamEvent parse_whole(std::string_view body);

 private:
  Api api_;
  std::string native_text_;  // text so far (native responses repeat the full text)
};

}  // namespace sgl::bench
