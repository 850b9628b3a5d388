#include "server/routes/openai_common.h"

#include <nlohmann/json.hpp>

#include "server/protocol/lora_specs.h"

namespace sgl::server {
namespace {

std::string token_text(const App& app, int32_t id) {
  return app.tokenizer->decode(std::span<const int32_t>(&id, 1), {.skip_special_tokens = false});
}

std::vector<TopEntry> top_entries(const App& app, const TopLogprobs& top) {
  std::vector<TopEntry> out;
  if (!top) return out;
  for (const auto& t : *top)
    out.push_back({t.text ? *t.text : token_text(app, t.token_id), t.logprob.value_or(0.f)});
  return out;
}

}  // namespace

// SGLang's fallback when the tokenizer has no chat template.
namespace {

std::string plain_prompt(const std::string& messages_json) {
  std::string out;
  auto msgs = nlohmann::json::parse(messages_json, nullptr, false);
  for (const auto& m : msgs) {
    std::string content;
    if (m.contains("content") && m["content"].is_string())
      content = m["content"].get<std::string>();
    else if (m.contains("content") && m["content"].is_array())
      for (const auto& p : m["content"])
        if (p.is_object() && p.value("type", "") == "text") content += p.value("text", "");
    std::string role = m.value("role", "user");
    out += (role == "assistant" ? "Assistant: "
            : role == "system"  ? "System: "
                                : "User: ") +
           content + "\n\n";
  }
  return out + "Assistant: ";
}

}  // namespace

// The prompt text (its ids come from it, and the reasoning parser looks for an open <think>).
Result<std::string> render_chat_prompt(const App& app, const ChatRequest& req) {
  ChatTemplateInput in =
      build_chat_template_context(req, app.tokenizer->bos_token(), app.tokenizer->eos_token());
  if (!app.chat_template) return plain_prompt(req.messages_json) + in.append;
  auto rendered = app.chat_template->render(in.context_json);
  // A template's raise_exception is the client's fault (SGLang answers 400).
  if (!rendered.ok()) return invalid_argument(rendered.error().message);
  return *rendered + in.append;
}

void apply_model_adapter(const App& app, std::string_view model, std::vector<GenerateItem>& items) {
  const std::string& served = app.args.served_model_name;
  if (!app.lora || model == served) return;
  // A served name with a colon of its own ("qwen3:8b") keeps it: its adapters follow the name.
  if (model.size() > served.size() && model.starts_with(served) && model[served.size()] == ':')
    model.remove_prefix(served.size());
  auto adapter = adapter_of_model(model);
  if (!adapter) return;
  for (auto& it : items) it.lora_path = *adapter;
}

Usage usage_of(const App& app, const std::vector<ItemState>& items) {
  Usage u;
  u.report_cached = app.args.enable_cache_report;
  for (const auto& s : items) {
    if (s.item.sample_index == 0) {
      u.prompt_tokens += s.out.prompt_tokens;
      u.cached_tokens += s.out.cached_tokens;
    }
    u.completion_tokens += s.out.completion_tokens;
    u.reasoning_tokens += s.out.reasoning_tokens;
  }
  return u;
}

CompletionLogprobs completion_logprobs(const App& app, const ItemState& s, size_t from, size_t to) {
  CompletionLogprobs lp;
  if (!s.out.logprobs) return lp;
  const auto& arr = *s.out.logprobs;
  to = std::min(to, arr.output_token_logprobs.size());
  for (size_t i = from; i < to; ++i) {
    const auto& t = arr.output_token_logprobs[i];
    lp.tokens.push_back(t.text ? *t.text : token_text(app, t.token_id));
    lp.token_logprobs.push_back(t.logprob);
    if (i < arr.output_top_logprobs.size() && arr.output_top_logprobs[i])
      lp.top_logprobs.push_back(top_entries(app, arr.output_top_logprobs[i]));
    else
      lp.top_logprobs.push_back(std::nullopt);
  }
  return lp;
}

std::vector<ChatTokenLogprob> chat_logprobs(const App& app, const ItemState& s, size_t from, size_t to) {
  std::vector<ChatTokenLogprob> out;
  if (!s.out.logprobs) return out;
  const auto& arr = *s.out.logprobs;
  to = std::min(to, arr.output_token_logprobs.size());
  for (size_t i = from; i < to; ++i) {
    const auto& t = arr.output_token_logprobs[i];
    ChatTokenLogprob c;
    c.token = t.text ? *t.text : token_text(app, t.token_id);
    c.logprob = t.logprob.value_or(0.f);
    if (i < arr.output_top_logprobs.size()) c.top = top_entries(app, arr.output_top_logprobs[i]);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace sgl::server
