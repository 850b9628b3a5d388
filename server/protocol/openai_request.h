// The bodies of POST /v1/completions and POST /v1/chat/completions (SGLang's OpenAI protocol),
// parsed into the same per-output items as /generate plus what the OpenAI answer needs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "server/protocol/generate_request.h"

namespace sgl::server {

struct StreamOptions {
  bool include_usage = false;
  bool continuous_usage_stats = false;
};

struct CompletionRequest {
  std::string model;
  std::vector<PromptInput> prompts;
  std::vector<GenerateItem> items;  // prompts × n, prompt-major; choice index = item index
  bool stream = false;
  StreamOptions stream_options;
  bool echo = false;
  std::optional<int64_t> logprobs;  // number of top logprobs per token
};

struct ChatRequest {
  std::string model;
  std::string messages_json;  // the validated `messages` array, compact JSON
  // Bytes of message text every template renders (all roles' but the assistant's): a lower
  // bound on the prompt's, checked against the context before the template runs.
  size_t message_text_bytes = 0;
  std::optional<std::string> tools_json;  // the `tools` array when given
  std::string tool_choice = "none";       // none | auto | required | <function name>
  std::string chat_template_kwargs_json = "{}";
  std::vector<GenerateItem> items;  // n items for the one prompt
  bool stream = false;
  StreamOptions stream_options;
  bool logprobs = false;
  int64_t top_logprobs = 0;
  bool continue_final_message = false;
  bool separate_reasoning = true;
  bool stream_reasoning = true;
  bool parallel_tool_calls = true;
};

// `defaults` carries the server's preferred sampling params (e.g. generation_config's temperature).
Result<CompletionRequest> parse_completion_request(std::string_view body, const RequestLimits& limits,
                                                   const SamplingParams& defaults = {});
Result<ChatRequest> parse_chat_request(std::string_view body, const RequestLimits& limits,
                                       const SamplingParams& defaults = {});

// The Jinja context for the model's chat template: messages, tools, add_generation_prompt,
// bos/eos and every chat_template_kwargs key. With continue_final_message and a final assistant
// message, that message is left out and its content returned in `append` (SGLang appends it).
struct ChatTemplateInput {
  std::string context_json;
  std::string append;
};
ChatTemplateInput build_chat_template_context(const ChatRequest& req, std::string_view bos_token,
                                              std::string_view eos_token);

// tool_choice "auto" with a `strict` tool under a JSON-call parser (qwen25, hermes): each item is
// decoded under strict_tool_structural_tag (unless it has a constraint of its own) and
// chat_template_kwargs.enable_thinking defaults to false, as SGLang-JAX does.
void apply_strict_tool_constraint(ChatRequest& req, std::string_view tool_call_parser);

// The value of chat_template_kwargs.enable_thinking (nullopt when not given).
std::optional<bool> enable_thinking(const ChatRequest& req);

}  // namespace sgl::server
