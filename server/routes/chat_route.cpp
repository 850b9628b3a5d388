// POST /v1/chat/completions: messages through the model's chat template, OpenAI chat answers.
// Tool calls and reasoning are returned unparsed for now (their parsers are wired separately).
#include <nlohmann/json.hpp>

#include "server/protocol/openai_request.h"
#include "server/routes/openai_common.h"
#include "server/routes/route_util.h"
#include "server/routes/routes.h"

namespace sgl::server {
namespace {

// SGLang's fallback when the tokenizer has no chat template.
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

Result<std::vector<int32_t>> chat_prompt_ids(const App& app, const ChatRequest& req) {
  ChatTemplateInput in =
      build_chat_template_context(req, app.tokenizer->bos_token(), app.tokenizer->eos_token());
  std::string prompt;
  if (app.chat_template) {
    SGL_ASSIGN_OR_RETURN(prompt, app.chat_template->render(in.context_json));
  } else {
    prompt = plain_prompt(req.messages_json);
  }
  prompt += in.append;
  // The template already wrote the special tokens.
  return app.tokenizer->encode(prompt, /*add_special_tokens=*/false);
}

}  // namespace

RouteResult handle_chat_completions(App& app, net::Exchange& ex) {
  if (auto st = check_json_content_type(ex.request()); !st.ok()) co_return openai_error(st.error());
  auto req = parse_chat_request(ex.request().body, app.limits, app.chat_defaults);
  if (!req.ok()) co_return openai_error(req.error());
  auto ids = chat_prompt_ids(app, *req);
  if (!ids.ok()) co_return openai_error(invalid_argument(ids.error().message));
  auto gen = std::make_shared<Generation>(app);
  if (auto st = gen->submit(req->items, {ids.value()}); !st.ok()) co_return openai_error(st.error());
  std::weak_ptr<Generation> weak = gen;
  ex.on_disconnect([weak] {
    if (auto g = weak.lock()) g->abort_all();
  });
  if (!req->stream) {
    while (co_await gen->next()) {
    }
    auto& items = gen->items();
    ResponseHead head{items[0].item.rid, unix_now(), req->model};
    std::vector<ChatChoice> choices;
    for (size_t i = 0; i < items.size(); ++i) {
      ChatChoice c;
      c.index = i;
      c.role = "assistant";
      c.content = items[i].out.text;
      c.finish = items[i].out.finish;
      if (req->logprobs) c.logprobs = chat_logprobs(app, items[i], 0, items[i].out.output_ids.size());
      choices.push_back(std::move(c));
    }
    co_return net::Response::json(200, chat_response_json(head, choices, usage_of(app, items)));
  }
  auto& items = gen->items();
  // With n > 1 each choice's chunks carry that choice's own rid, as SGLang does.
  auto head_of = [&](size_t i) { return ResponseHead{items[i].item.rid, unix_now(), req->model}; };
  for (size_t i = 0; i < items.size(); ++i) {
    ChatChoice first;
    first.index = i;
    first.role = "assistant";
    first.content = "";
    if (!(co_await ex.write_event(chat_chunk_json(head_of(i), first))).ok()) co_return net::Response{};
  }
  while (co_await gen->next()) {
    for (size_t i = 0; i < items.size(); ++i) {
      auto& s = items[i];
      if (!s.changed) continue;
      ChatChoice c;
      c.index = i;
      std::string delta = s.out.text.substr(std::min(s.sent_text, s.out.text.size()));
      if (req->logprobs) c.logprobs = chat_logprobs(app, s, s.sent_ids, s.out.output_ids.size());
      s.sent_text = s.out.text.size();
      s.sent_ids = s.out.output_ids.size();
      if (!delta.empty() || (c.logprobs && !c.logprobs->empty())) {
        c.content = std::move(delta);
        if (!(co_await ex.write_event(chat_chunk_json(head_of(i), c))).ok()) {
          gen->abort_all();
          co_return net::Response{};
        }
      }
      if (s.out.finish.finished()) {
        ChatChoice last;
        last.index = i;
        last.finish = s.out.finish;
        if (!(co_await ex.write_event(chat_chunk_json(head_of(i), last))).ok()) co_return net::Response{};
      }
    }
  }
  if (req->stream_options.include_usage)
    co_await ex.write_event(usage_chunk_json(head_of(0), "chat.completion.chunk", usage_of(app, items)));
  co_await ex.finish();
  co_return net::Response{};
}

}  // namespace sgl::server
