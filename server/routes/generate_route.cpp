// POST /generate: SGLang's native API, single or batch, JSON or SSE (cumulative text per event).
#include <boost/asio/use_awaitable.hpp>
#include <optional>

#include "server/generation.h"
#include "server/protocol/generate_response.h"
#include "server/routes/route_util.h"
#include "server/routes/routes.h"

namespace sgl::server {
namespace {

// A session turn (session_params): on every way out of the route, the session learns what the
// request produced (or forgets it when it never ran), so that later turns can continue it.
class SessionTurn {
 public:
  SessionTurn(App& app, std::string session_id, std::string rid)
      : app_(app), session_id_(std::move(session_id)), rid_(std::move(rid)) {}
  ~SessionTurn() {
    std::vector<int32_t> out;
    if (gen_) out = gen_->items().front().out.output_ids;
    app_.sessions->end(session_id_, rid_, std::move(out), gen_ != nullptr);
  }
  SessionTurn(const SessionTurn&) = delete;
  SessionTurn& operator=(const SessionTurn&) = delete;
  void submitted(std::shared_ptr<const Generation> gen) { gen_ = std::move(gen); }

 private:
  App& app_;
  std::string session_id_, rid_;
  std::shared_ptr<const Generation> gen_;
};

}  // namespace

boost::asio::awaitable<net::Response> handle_generate(App& app, net::Exchange& ex) {
  auto req = parse_generate_request(ex.request().body, app.limits);
  if (!req.ok()) co_return native_error(req.error());
  co_return co_await serve_generate(app, ex, std::move(req).value());
}

boost::asio::awaitable<net::Response> serve_generate(App& app, net::Exchange& ex, GenerateRequest request) {
  auto req = &request;
  std::vector<std::vector<int32_t>> ids;
  for (const auto& p : req->prompts) {
    auto t = tokenize_prompt(app, p, /*add_special_tokens=*/true);
    if (!t.ok()) co_return native_error(t.error());
    ids.push_back(std::move(t).value());
  }
  std::optional<SessionTurn> turn;
  if (req->session) {
    const int32_t bos = app.tokenizer ? app.tokenizer->bos_token_id() : -1;
    auto t = app.sessions->begin(*req->session, req->items[0].rid, ids[0], bos);
    // Replacing a running turn: stop it, and continue from all it produced once it has ended.
    for (int tries = 0; t.ok() && t->wait_for && tries < 8; ++tries) {
      auto ended = std::make_shared<net::AsyncNotifier>();
      if (app.sessions->notify_when_ended(req->session->id, *t->wait_for, ended)) {
        app.scheduler->abort(*t->wait_for);
        co_await ended->wait();
      }
      t = app.sessions->begin(*req->session, req->items[0].rid, ids[0], bos);
    }
    if (t.ok() && t->wait_for)
      t = Error{ErrorCode::kUnavailable, "Session request is replacing a request that does not stop."};
    if (!t.ok()) co_return native_error(t.error());
    turn.emplace(app, req->session->id, req->items[0].rid);
    for (const auto& rid : t->abort_rids) app.scheduler->abort(rid);
    ids[0] = std::move(t->input_ids);
  }
  auto gen = std::make_shared<Generation>(app);
  if (auto st = gen->submit(std::move(req->items), ids); !st.ok()) co_return native_error(st.error());
  if (turn) turn->submitted(gen);
  LogNoteOnExit log_note(ex, gen);
  std::weak_ptr<Generation> weak = gen;
  ex.on_disconnect([weak] {
    if (auto g = weak.lock()) g->abort_all();
  });
  if (!req->stream) {
    while (co_await gen->next()) {
    }
    std::vector<GenerateOutput> outs;
    for (auto& s : gen->items()) outs.push_back(s.out);
    co_return net::Response::json(
        200, req->list_response ? generate_outputs_json(outs) : generate_output_json(outs[0]));
  }
  while (co_await gen->next()) {
    auto& items = gen->items();
    for (size_t i = 0; i < items.size(); ++i) {
      if (!items[i].changed) continue;
      const auto index = req->list_response ? std::optional<size_t>(i) : std::nullopt;
      std::string event =
          app.args.incremental_streaming_output
              ? generate_event_json(items[i].out, items[i].sent_text, items[i].sent_ids, index)
              : items[i].event_writer.cumulative(items[i].out, index);
      items[i].sent_text = items[i].out.text.size();
      items[i].sent_ids = items[i].out.output_ids.size();
      auto st = co_await ex.write_event(event);
      if (!st.ok()) {
        gen->abort_all();
        co_return net::Response{};
      }
    }
  }
  co_await ex.finish();
  co_return net::Response{};
}

}  // namespace sgl::server
