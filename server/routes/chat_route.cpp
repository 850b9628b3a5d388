// POST /v1/chat/completions: messages (and tools) through the model's chat template, then each
// choice's text through the reasoning and tool-call parsers into OpenAI chat answers.
#include <nlohmann/json.hpp>

#include "server/parsers/chat_output.h"
#include "server/protocol/openai_request.h"
#include "server/routes/chat_stream.h"
#include "server/routes/openai_common.h"
#include "server/routes/route_util.h"
#include "server/routes/routes.h"

namespace sgl::server {
namespace {

ChatChoice whole_choice(const App& app, const ChatRequest& req, size_t i, ItemState& s,
                        ChatOutputParser& parser) {
  ChatMessageParts parts = parse_chat_output(parser, s.out.text);
  ChatChoice c;
  c.index = i;
  c.role = "assistant";
  c.content = std::move(parts.content);
  if (!parts.reasoning.empty()) c.reasoning_content = std::move(parts.reasoning);
  if (!parts.calls.empty()) c.tool_calls_json = tool_calls_json(parts.calls);
  c.finish = s.out.finish;
  c.finished_by_tool_calls = finished_by_tool_calls(s.out.finish, int(parts.calls.size()));
  if (req.logprobs) c.logprobs = chat_logprobs(app, s, 0, s.out.output_ids.size());
  return c;
}

}  // namespace

RouteResult handle_chat_completions(App& app, net::Exchange& ex) {
  if (auto st = check_json_content_type(ex.request()); !st.ok()) co_return openai_error(st.error());
  auto req = parse_chat_request(ex.request().body, app.limits, app.chat_defaults);
  if (!req.ok()) co_return openai_error(req.error());
  apply_model_adapter(app, req->model, req->items);
  // Strict tools decode under their schemas where the grammar backend runs (not with speculative decoding).
  if (app.limits.grammar_supported) apply_strict_tool_constraint(*req, app.args.tool_call_parser);
  // Messages too long for the context are refused before the template copies them around.
  if (auto st = check_prompt_bytes(req->message_text_bytes, app.limits); !st.ok())
    co_return openai_error(st.error());
  auto prompt = render_chat_prompt(app, *req);
  if (!prompt.ok()) co_return openai_error(prompt.error());
  // A rendered prompt too long for the context is refused before the encoder's seconds on it.
  if (auto st = check_prompt_bytes(prompt->size(), app.limits); !st.ok()) co_return openai_error(st.error());
  // The template already wrote the special tokens.
  auto ids = app.tokenizer->encode(*prompt, /*add_special_tokens=*/false);
  if (!ids.ok()) co_return openai_error(invalid_argument(ids.error().message));
  std::vector<std::unique_ptr<ChatOutputParser>> parsers;
  for (size_t i = 0; i < req->items.size(); ++i) {
    auto p = ChatOutputParser::create(chat_parsing_options(app.args, *req), *prompt);
    if (!p.ok()) co_return openai_error(p.error());
    // A separated reasoning block is counted into usage.reasoning_tokens.
    req->items[i].require_reasoning = (*p)->separates_reasoning();
    parsers.push_back(std::move(*p));
  }
  auto gen = std::make_shared<Generation>(app);
  if (auto st = gen->submit(req->items, {ids.value()}); !st.ok()) co_return openai_error(st.error());
  LogNoteOnExit log_note(ex, gen);
  std::weak_ptr<Generation> weak = gen;
  ex.on_disconnect([weak] {
    if (auto g = weak.lock()) g->abort_all();
  });
  if (req->stream) co_return co_await stream_chat_response(app, ex, *req, *gen, parsers);
  while (co_await gen->next()) {
  }
  auto& items = gen->items();
  ResponseHead head{items[0].item.rid, unix_now(), req->model};
  std::vector<ChatChoice> choices;
  for (size_t i = 0; i < items.size(); ++i)
    choices.push_back(whole_choice(app, *req, i, items[i], *parsers[i]));
  co_return net::Response::json(200, chat_response_json(head, choices, usage_of(app, items)));
}

}  // namespace sgl::server
