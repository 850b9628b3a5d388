// The OpenAI Responses API: POST /v1/responses (a chat completion underneath: the conversation
// built from instructions, a stored previous response and the input items goes through the chat
// template, the answer through the reasoning and tool-call parsers into output items), streamed as
// the official response.* events, or run in the background (background: true: "queued" at once,
// then GET polls it, cancel stops it); GET / DELETE /v1/responses/{id} and POST .../{id}/cancel on
// the in-memory store of responses (store: true, the 1024 most recent).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "server/parsers/chat_output.h"
#include "server/protocol/openai_request.h"
#include "server/protocol/responses_api.h"
#include "server/routes/chat_stream.h"
#include "server/routes/openai_common.h"
#include "server/routes/route_util.h"
#include "server/routes/routes.h"

namespace sgl::server {
namespace {

ResponseStore& store() {
  static ResponseStore s(1024);
  return s;
}

net::Response error_response(int status, std::string_view message, std::string_view param) {
  return net::Response::json(status, responses_error_body(status, message, param));
}

ResponseUsage response_usage(const App& app, const std::vector<ItemState>& items) {
  Usage u = usage_of(app, items);
  return {u.prompt_tokens, u.completion_tokens, u.cached_tokens, u.reasoning_tokens};
}

struct Outcome {
  std::string status = "completed";
  std::optional<std::string> incomplete_reason;
  std::optional<std::string> error;
};

Outcome outcome_of(const FinishReason& f) {
  Outcome o;
  if (f.type == FinishReason::Type::kLength) {
    o.status = "incomplete";
    o.incomplete_reason = "max_output_tokens";
  } else if (f.type == FinishReason::Type::kAbort) {
    o.status = "failed";
    o.error = f.message.empty() ? std::string("aborted") : f.message;
  }
  return o;
}

std::string dump(const RJson& j) { return j.dump(-1, ' ', false, RJson::error_handler_t::replace); }

// The id after /v1/responses/ (and before /cancel when `suffix` is "/cancel").
std::string path_id(std::string_view path, std::string_view suffix) {
  constexpr std::string_view kPrefix = "/v1/responses/";
  std::string_view rest = path.substr(std::min(path.size(), kPrefix.size()));
  if (!suffix.empty()) {
    if (!rest.ends_with(suffix)) return "";
    rest.remove_suffix(suffix.size());
  }
  if (rest.find('/') != std::string_view::npos) return "";
  return std::string(rest);
}

// Background responses still running, by id: cancel stops them.
struct BackgroundRun {
  std::weak_ptr<Generation> gen;
  bool cancelled = false;
};
std::mutex g_background_mu;
std::unordered_map<std::string, BackgroundRun>& background_runs() {
  static std::unordered_map<std::string, BackgroundRun> runs;
  return runs;
}

// What a finished (or stopped) generation answers as a response object.
RJson finished_response(const App& app, const ResponsesRequest& req, const std::string& id,
                        int64_t created_at, Generation& gen, ChatOutputParser& parser, bool cancelled) {
  auto& s = gen.items()[0];
  Outcome o = outcome_of(s.out.finish);
  if (cancelled) o = Outcome{"cancelled", std::nullopt, std::nullopt};
  ChatMessageParts parts = parse_chat_output(parser, s.out.text);
  RJson output = output_items(parts, o.status == "incomplete" ? "incomplete" : "completed");
  return response_object(req, id, created_at, o.status, output, response_usage(app, gen.items()),
                         o.incomplete_reason, o.error);
}

// background: true — the generation goes on after the route answered; the stored response is
// replaced by the finished one (a GET sees "in_progress" until then).
boost::asio::awaitable<void> run_in_background(App& app, std::shared_ptr<Generation> gen,
                                               std::unique_ptr<ChatOutputParser> parser, ResponsesRequest req,
                                               std::string id, int64_t created_at, RJson history) {
  while (co_await gen->next()) {
  }
  bool cancelled = false;
  {
    std::lock_guard lk(g_background_mu);
    auto it = background_runs().find(id);
    if (it != background_runs().end()) {
      cancelled = it->second.cancelled;
      background_runs().erase(it);
    }
  }
  RJson response = finished_response(app, req, id, created_at, *gen, *parser, cancelled);
  for (auto& m : output_messages(response["output"])) history.push_back(std::move(m));
  store().put(id, StoredResponse{std::move(response), std::move(history)});
}

}  // namespace

RouteResult handle_responses(App& app, net::Exchange& ex) {
  if (auto st = check_json_content_type(ex.request()); !st.ok()) co_return openai_error(st.error());
  auto req = parse_responses_request(ex.request().body);
  if (!req.ok()) co_return openai_error(req.error());
  // The conversation: this request's instructions, the previous response's history, the input.
  RJson history = RJson::array();
  if (req->previous_response_id) {
    auto prev = store().get(*req->previous_response_id);
    if (!prev)
      co_return error_response(400,
                               "Previous response with id '" + *req->previous_response_id + "' not found.",
                               "previous_response_id");
    history = prev->history;
  }
  auto input = input_messages(req->input);
  if (!input.ok()) co_return openai_error(input.error());
  for (auto& m : *input) history.push_back(m);
  RJson messages = RJson::array();
  if (req->instructions) messages.push_back({{"role", "system"}, {"content", *req->instructions}});
  for (const auto& m : history) messages.push_back(m);

  const std::string id = new_response_item_id("resp_");
  const int64_t created_at = unix_now();
  auto chat = parse_chat_request(chat_body(*req, messages, id), app.limits, app.chat_defaults);
  if (!chat.ok()) co_return openai_error(chat.error());
  apply_model_adapter(app, chat->model, chat->items);
  // Strict tools decode under their schemas where the grammar backend runs (not with speculative decoding).
  if (app.limits.grammar_supported) apply_strict_tool_constraint(*chat, app.args.tool_call_parser);
  auto prompt = render_chat_prompt(app, *chat);
  if (!prompt.ok()) co_return openai_error(prompt.error());
  if (auto st = check_prompt_bytes(prompt->size(), app.limits); !st.ok()) co_return openai_error(st.error());
  auto ids = app.tokenizer->encode(*prompt, /*add_special_tokens=*/false);
  if (!ids.ok()) co_return openai_error(invalid_argument(ids.error().message));
  auto parser = ChatOutputParser::create(chat_parsing_options(app.args, *chat), *prompt);
  if (!parser.ok()) co_return openai_error(parser.error());
  chat->items[0].require_reasoning = (*parser)->separates_reasoning();
  auto gen = std::make_shared<Generation>(app);
  if (auto st = gen->submit(chat->items, {ids.value()}); !st.ok()) co_return openai_error(st.error());
  if (req->background) {
    // Answer "queued" now; the client polls GET /v1/responses/{id} (or cancels). The run does not
    // depend on this connection.
    RJson queued = response_object(*req, id, created_at, "queued", RJson::array(), std::nullopt);
    RJson running = response_object(*req, id, created_at, "in_progress", RJson::array(), std::nullopt);
    store().put(id, StoredResponse{std::move(running), history});
    {
      std::lock_guard lk(g_background_mu);
      background_runs()[id] = BackgroundRun{gen, false};
    }
    boost::asio::co_spawn(
        co_await boost::asio::this_coro::executor,
        run_in_background(app, gen, std::move(parser).value(), *req, id, created_at, history),
        boost::asio::detached);
    co_return net::Response::json(200, dump(queued));
  }
  LogNoteOnExit log_note(ex, gen);
  std::weak_ptr<Generation> weak = gen;
  ex.on_disconnect([weak] {
    if (auto g = weak.lock()) g->abort_all();
  });

  auto remember = [&](const RJson& response) {
    if (!req->store) return;
    RJson h = history;
    for (auto& m : output_messages(response["output"])) h.push_back(std::move(m));
    store().put(id, StoredResponse{response, std::move(h)});
  };

  if (!req->stream) {
    while (co_await gen->next()) {
    }
    RJson response = finished_response(app, *req, id, created_at, *gen, **parser, /*cancelled=*/false);
    remember(response);
    co_return net::Response::json(200, dump(response));
  }

  ResponseStreamState st;
  auto send = [&](const std::string& e) -> boost::asio::awaitable<bool> {
    if ((co_await ex.write_raw(e)).ok()) co_return true;
    gen->abort_all();
    co_return false;
  };
  RJson initial = response_object(*req, id, created_at, "in_progress", RJson::array(), std::nullopt);
  // (Events are built before each co_await: g++ 12 miscompiles braced JSON inside co_await.)
  std::vector<std::string> head{st.event("response.created", RJson{{"response", initial}}),
                                st.event("response.in_progress", RJson{{"response", initial}})};
  for (const auto& e : head)
    if (!co_await send(e)) co_return net::Response{};
  auto& items = gen->items();
  while (co_await gen->next()) {
    auto& s = items[0];
    if (!s.changed) continue;
    std::string_view text = s.out.text;
    std::string delta(text.substr(std::min(s.sent_text, text.size())));
    s.sent_text = std::max(s.sent_text, text.size());
    ChatPieces pieces = (*parser)->feed(delta);
    if (s.out.finish.finished()) {
      ChatPieces rest = (*parser)->finish();
      pieces.reasoning += rest.reasoning;
      pieces.content += rest.content;
      pieces.calls.insert(pieces.calls.end(), rest.calls.begin(), rest.calls.end());
    }
    for (const auto& e : st.feed(pieces))
      if (!co_await send(e)) co_return net::Response{};
  }
  Outcome o = outcome_of(items[0].out.finish);
  for (const auto& e : st.close(o.status == "incomplete" ? "incomplete" : "completed"))
    if (!co_await send(e)) co_return net::Response{};
  RJson response = response_object(*req, id, created_at, o.status, st.output(), response_usage(app, items),
                                   o.incomplete_reason, o.error);
  remember(response);
  const char* final_type = o.status == "completed"    ? "response.completed"
                           : o.status == "incomplete" ? "response.incomplete"
                                                      : "response.failed";
  std::string last = st.event(final_type, RJson{{"response", response}});
  if (!co_await send(last)) co_return net::Response{};
  // SGLang's and OpenAI's Responses streams end after the last event, without data: [DONE].
  co_await ex.end_stream();
  co_return net::Response{};
}

RouteResult handle_get_response(App& app, net::Exchange& ex) {
  (void)app;
  std::string id = path_id(ex.request().path, "");
  auto r = store().get(id);
  if (!r) co_return error_response(404, "Response with id '" + id + "' not found.", "response_id");
  co_return net::Response::json(200, dump(r->response));
}

RouteResult handle_delete_response(App& app, net::Exchange& ex) {
  (void)app;
  std::string id = path_id(ex.request().path, "");
  if (!store().erase(id))
    co_return error_response(404, "Response with id '" + id + "' not found.", "response_id");
  co_return net::Response::json(200, dump(RJson{{"id", id}, {"object", "response"}, {"deleted", true}}));
}

RouteResult handle_cancel_response(App& app, net::Exchange& ex) {
  (void)app;
  std::string id = path_id(ex.request().path, "/cancel");
  if (id.empty()) co_return error_response(404, "Not Found", "");
  auto stored = store().get(id);
  if (!stored) co_return error_response(404, "Response with id '" + id + "' not found.", "response_id");
  std::shared_ptr<Generation> running;
  {
    std::lock_guard lk(g_background_mu);
    auto it = background_runs().find(id);
    if (it != background_runs().end()) {
      it->second.cancelled = true;
      running = it->second.gen.lock();
    }
  }
  if (!running) {
    // Only a background response still running can be cancelled (SGLang's and OpenAI's rule).
    if (stored->response.value("background", false))
      co_return error_response(400,
                               "Cannot cancel a response that is already " +
                                   stored->response.value("status", std::string("done")) + ".",
                               "");
    co_return error_response(400, "Cannot cancel a synchronous response.", "");
  }
  running->abort_all();  // its run stores it as "cancelled" once the scheduler has stopped it
  RJson r = stored->response;
  r["status"] = "cancelled";
  co_return net::Response::json(200, dump(r));
}

}  // namespace sgl::server
