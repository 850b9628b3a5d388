// POST /generate: SGLang's native API, single or batch, JSON or SSE (cumulative text per event).
#include <boost/asio/use_awaitable.hpp>

#include "server/generation.h"
#include "server/protocol/generate_response.h"
#include "server/routes/route_util.h"
#include "server/routes/routes.h"

namespace sgl::server {

boost::asio::awaitable<net::Response> handle_generate(App& app, net::Exchange& ex) {
  auto req = parse_generate_request(ex.request().body, app.limits);
  if (!req.ok()) co_return native_error(req.error());
  std::vector<std::vector<int32_t>> ids;
  for (const auto& p : req->prompts) {
    auto t = tokenize_prompt(app, p, /*add_special_tokens=*/true);
    if (!t.ok()) co_return native_error(t.error());
    ids.push_back(std::move(t).value());
  }
  auto gen = std::make_shared<Generation>(app);
  if (auto st = gen->submit(std::move(req->items), ids); !st.ok()) co_return native_error(st.error());
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
