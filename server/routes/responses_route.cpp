// The OpenAI Responses API: POST /v1/responses (a chat completion underneath: the conversation
// built from instructions, a stored previous response and the input items goes through the chat
// template, the answer through the reasoning and tool-call parsers into output items), streamed as
// the official response.* events, or run in the background (background: true: "queued" at once,
// then GET polls it, cancel stops it; with stream: true its events stream and, as OpenAI's, can be
// followed again from any sequence number by GET ?stream=true&starting_after=N); GET / DELETE
// /v1/responses/{id} and POST .../{id}/cancel on the in-memory store of responses (store: true,
// the 1024 most recent).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <charconv>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "server/parsers/chat_output.h"
#include "server/protocol/openai_request.h"
#include "server/protocol/query_params.h"
#include "server/protocol/responses_api.h"
#include "server/routes/chat_stream.h"
#include "server/routes/openai_common.h"
#include "server/routes/response_event_log.h"
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

// Background responses still running, by id: cancel stops them; a streamed one's event log is
// followed by GET ?stream=true.
struct BackgroundRun {
  std::weak_ptr<Generation> gen;
  bool cancelled = false;
  std::shared_ptr<ResponseEventLog> log;  // background + stream only
};
std::mutex g_background_mu;
std::unordered_map<std::string, BackgroundRun>& background_runs() {
  static std::unordered_map<std::string, BackgroundRun> runs;
  return runs;
}
// The event logs of finished background streams, the 64 most recent (GET ?stream=true replays).
std::deque<std::pair<std::string, std::shared_ptr<ResponseEventLog>>>& finished_logs() {
  static std::deque<std::pair<std::string, std::shared_ptr<ResponseEventLog>>> logs;
  return logs;
}

// Whether /cancel was called for the background run `id` (still registered).
bool cancelled(const std::string& id) {
  std::lock_guard lk(g_background_mu);
  auto it = background_runs().find(id);
  return it != background_runs().end() && it->second.cancelled;
}

// Unregisters a finished background run (its log, if any, joins the finished ones); returns
// whether it was cancelled.
bool end_background_run(const std::string& id) {
  std::lock_guard lk(g_background_mu);
  auto it = background_runs().find(id);
  if (it == background_runs().end()) return false;
  const bool was_cancelled = it->second.cancelled;
  if (it->second.log) {
    finished_logs().emplace_back(id, std::move(it->second.log));
    if (finished_logs().size() > 64) finished_logs().pop_front();
  }
  background_runs().erase(it);
  return was_cancelled;
}

// The event log of a background stream, running or among the recent finished ones.
std::shared_ptr<ResponseEventLog> find_event_log(const std::string& id) {
  std::lock_guard lk(g_background_mu);
  if (auto it = background_runs().find(id); it != background_runs().end()) return it->second.log;
  for (const auto& [rid, log] : finished_logs())
    if (rid == id) return log;
  return nullptr;
}

// include: ["message.output_text.logprobs"]: the answer's tokens (the reasoning block's, which
// the reasoning item holds, left out).
void attach_logprobs(const App& app, const ResponsesRequest& req, const ItemState& s, RJson& output) {
  if (!req.wants_output_logprobs()) return;
  const size_t from = static_cast<size_t>(std::max<int64_t>(0, s.out.reasoning_tokens));
  attach_output_logprobs(
      output, RJson::parse(chat_logprob_entries_json(chat_logprobs(app, s, from, s.out.output_ids.size()))));
}

// What a finished (or stopped) generation answers as a response object.
RJson finished_response(const App& app, const ResponsesRequest& req, const std::string& id,
                        int64_t created_at, Generation& gen, ChatOutputParser& parser, bool cancelled) {
  auto& s = gen.items()[0];
  Outcome o = outcome_of(s.out.finish);
  if (cancelled) o = Outcome{"cancelled", std::nullopt, std::nullopt};
  ChatMessageParts parts = parse_chat_output(parser, s.out.text);
  RJson output = output_items(parts, o.status == "incomplete" ? "incomplete" : "completed");
  attach_logprobs(app, req, s, output);
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
  const bool was_cancelled = end_background_run(id);
  RJson response = finished_response(app, req, id, created_at, *gen, *parser, was_cancelled);
  for (auto& m : output_messages(response["output"])) history.push_back(std::move(m));
  store().put(id, StoredResponse{std::move(response), std::move(history)});
}

// The whole run as Responses events appended to `log` (created, in_progress, the output items'
// events, the final response's event), then the log closed. A background run starts "queued"
// and is unregistered at its end; the response is stored (history appended) when req.store.
boost::asio::awaitable<void> produce_response_events(App& app, std::shared_ptr<Generation> gen,
                                                     std::unique_ptr<ChatOutputParser> parser,
                                                     ResponsesRequest req, std::string id, int64_t created_at,
                                                     RJson history, std::shared_ptr<ResponseEventLog> log) {
  ResponseStreamState st;
  RJson initial = response_object(req, id, created_at, req.background ? "queued" : "in_progress",
                                  RJson::array(), std::nullopt);
  RJson running = response_object(req, id, created_at, "in_progress", RJson::array(), std::nullopt);
  log->append(st.event("response.created", RJson{{"response", initial}}));
  log->append(st.event("response.in_progress", RJson{{"response", running}}));
  auto& items = gen->items();
  while (co_await gen->next()) {
    auto& s = items[0];
    if (!s.changed) continue;
    std::string_view text = s.out.text;
    std::string delta(text.substr(std::min(s.sent_text, text.size())));
    s.sent_text = std::max(s.sent_text, text.size());
    ChatPieces pieces = parser->feed(delta);
    if (s.out.finish.finished()) {
      ChatPieces rest = parser->finish();
      pieces.reasoning += rest.reasoning;
      pieces.content += rest.content;
      pieces.calls.insert(pieces.calls.end(), rest.calls.begin(), rest.calls.end());
    }
    for (auto& e : st.feed(pieces)) log->append(std::move(e));
  }
  Outcome o = outcome_of(items[0].out.finish);
  if (cancelled(id)) o = Outcome{"cancelled", std::nullopt, std::nullopt};
  for (auto& e : st.close(o.status == "incomplete" ? "incomplete" : "completed")) log->append(std::move(e));
  RJson output = st.output();
  attach_logprobs(app, req, items[0], output);
  RJson response = response_object(req, id, created_at, o.status, output, response_usage(app, items),
                                   o.incomplete_reason, o.error);
  const char* final_type = o.status == "completed"    ? "response.completed"
                           : o.status == "incomplete" ? "response.incomplete"
                           : o.status == "cancelled"  ? "response.cancelled"
                                                      : "response.failed";
  log->append(st.event(final_type, RJson{{"response", response}}));
  if (req.store) {
    for (auto& m : output_messages(response["output"])) history.push_back(std::move(m));
    store().put(id, StoredResponse{std::move(response), std::move(history)});
  }
  if (req.background) end_background_run(id);
  log->close();
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
    // Answer "queued" now (or stream the run's events, which it logs for GET ?stream=true); the
    // client polls GET /v1/responses/{id} or cancels. The run does not depend on this connection.
    RJson queued = response_object(*req, id, created_at, "queued", RJson::array(), std::nullopt);
    RJson running = response_object(*req, id, created_at, "in_progress", RJson::array(), std::nullopt);
    store().put(id, StoredResponse{std::move(running), history});
    auto log = req->stream ? std::make_shared<ResponseEventLog>() : nullptr;
    {
      std::lock_guard lk(g_background_mu);
      background_runs()[id] = BackgroundRun{gen, false, log};
    }
    if (log) {
      boost::asio::co_spawn(
          co_await boost::asio::this_coro::executor,
          produce_response_events(app, gen, std::move(parser).value(), *req, id, created_at, history, log),
          boost::asio::detached);
      co_await follow_event_log(ex, log, 0);  // a client that leaves stops following, not the run
      co_return net::Response{};
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

  // SGLang's and OpenAI's Responses streams end after the last event, without data: [DONE].
  auto log = std::make_shared<ResponseEventLog>();
  boost::asio::co_spawn(
      co_await boost::asio::this_coro::executor,
      produce_response_events(app, gen, std::move(parser).value(), *req, id, created_at, history, log),
      boost::asio::detached);
  if (!co_await follow_event_log(ex, log, 0)) gen->abort_all();  // the client left
  co_return net::Response{};
}

RouteResult handle_get_response(App& app, net::Exchange& ex) {
  (void)app;
  std::string id = path_id(ex.request().path, "");
  auto r = store().get(id);
  if (!r) co_return error_response(404, "Response with id '" + id + "' not found.", "response_id");
  // OpenAI's ?stream=true&starting_after=N: a background stream's events after sequence number N.
  const auto& query = ex.request().query;
  if (query_param(query, "stream").value_or("false") == "true") {
    auto log = find_event_log(id);
    if (!log)
      co_return error_response(
          400,
          "Response '" + id + "' cannot be streamed: only background responses created with stream=true can.",
          "stream");
    size_t from = 0;
    if (auto after = query_param(query, "starting_after")) {
      int64_t n = -1;
      const auto [p, ec] = std::from_chars(after->data(), after->data() + after->size(), n);
      if (ec != std::errc() || p != after->data() + after->size() || n < 0)
        co_return error_response(
            400, "starting_after: expected a non-negative integer, got '" + *after + "'.", "starting_after");
      from = static_cast<size_t>(n) + 1;
    }
    (void)co_await follow_event_log(ex, log, from);
    co_return net::Response{};
  }
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
