// OpenAI-shaped answers of /v1/completions and /v1/chat/completions as SGLang writes them:
// whole responses, stream chunks and the usage chunk.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "server/protocol/output_types.h"

namespace sgl::server {

struct TopEntry {
  std::string token;
  float logprob = 0;
};

// Legacy completions logprobs: {"text_offset","token_logprobs","tokens","top_logprobs"}.
struct CompletionLogprobs {
  std::vector<std::string> tokens;
  std::vector<std::optional<float>> token_logprobs;
  std::vector<std::optional<std::vector<TopEntry>>> top_logprobs;
};

struct CompletionChoice {
  size_t index = 0;
  std::string text;  // the whole text, or the delta in a stream chunk
  FinishReason finish;
  std::optional<CompletionLogprobs> logprobs;
  std::optional<std::string> routed_experts;  // return_routed_experts (SGLang-JAX): base64 int32 ids
};

struct ChatTokenLogprob {
  std::string token;
  float logprob = 0;
  std::vector<TopEntry> top;
};

struct ChatChoice {
  size_t index = 0;
  std::optional<std::string> role;  // "assistant" (always in a response; first chunk only in streams)
  std::optional<std::string> content;
  std::optional<std::string> reasoning_content;
  std::optional<std::string> tool_calls_json;  // a JSON array of tool calls
  FinishReason finish;
  bool finished_by_tool_calls = false;  // finish_reason "tool_calls", matched_stop null
  std::optional<std::vector<ChatTokenLogprob>> logprobs;
};

struct ResponseHead {
  std::string id;
  int64_t created = 0;
  std::string model;
};

std::string completion_response_json(const ResponseHead& head, const std::vector<CompletionChoice>& choices,
                                     const Usage& usage);
std::string completion_chunk_json(const ResponseHead& head, const CompletionChoice& choice,
                                  const std::optional<Usage>& usage = std::nullopt);

std::string chat_response_json(const ResponseHead& head, const std::vector<ChatChoice>& choices,
                               const Usage& usage);
std::string chat_chunk_json(const ResponseHead& head, const ChatChoice& delta,
                            const std::optional<Usage>& usage = std::nullopt);

// The last chunk with include_usage: "choices": [] and the usage object.
// `object` is "text_completion" or "chat.completion.chunk".
std::string usage_chunk_json(const ResponseHead& head, const char* object, const Usage& usage);
// The entries of chat logprobs ([{token, bytes, logprob, top_logprobs}...], chat's `content`
// list), also the Responses API's output_text logprobs.
std::string chat_logprob_entries_json(const std::vector<ChatTokenLogprob>& tokens);

}  // namespace sgl::server
