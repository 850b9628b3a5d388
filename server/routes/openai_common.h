// Pieces shared by /v1/completions and /v1/chat/completions: usage, logprob conversion.
#pragma once

#include <vector>

#include "server/generation.h"
#include "server/protocol/openai_request.h"
#include "server/protocol/openai_response.h"

namespace sgl::server {

// prompt_tokens count once per prompt (sample 0), completion tokens over every choice.
// A chat request's prompt: the model's chat template (a template's raise_exception is a 400), or
// SGLang's plain "User: …\n\nAssistant: " fallback when the tokenizer has none. Its ids come from
// this text, and the reasoning parser looks for an open <think> at its end.
Result<std::string> render_chat_prompt(const App& app, const ChatRequest& req);

Usage usage_of(const App& app, const std::vector<ItemState>& items);

// SGLang's "base:adapter" model parameter: with LoRA on, the adapter after the first colon runs
// every item, over any lora_path field. The served name itself and "<served name>:adapter" are
// read whole even when the served name holds a colon; a model without one leaves the items as they
// are; with LoRA off the model picks nothing, as before.
void apply_model_adapter(const App& app, std::string_view model, std::vector<GenerateItem>& items);

// Output logprobs [from, to) of an item in the legacy completions layout.
CompletionLogprobs completion_logprobs(const App& app, const ItemState& s, size_t from, size_t to);
// Output logprobs [from, to) of an item in the chat layout.
std::vector<ChatTokenLogprob> chat_logprobs(const App& app, const ItemState& s, size_t from, size_t to);

}  // namespace sgl::server
