// POST /load_lora_adapter and POST /unload_lora_adapter: SGLang's dynamic LoRA routes. Both answer
// {"success", "error_message", "loaded_adapters": {name: path}}, 200 on success and 400 otherwise.
#include <spdlog/spdlog.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "server/protocol/json_fields.h"
#include "server/routes/callback_result.h"
#include "server/routes/route_util.h"
#include "server/routes/routes.h"

namespace sgl::server {
namespace {

using nlohmann::ordered_json;
using AdapterResult = Result<std::shared_ptr<const engine::LoraAdapter>>;

Error lora_disabled() {
  return invalid_argument("LoRA is not enabled. Please set `--enable-lora` to enable LoRA.");
}

net::Response lora_reply(const App& app, const Status& st) {
  ordered_json loaded = nullptr;  // SGLang leaves it out (None) on a refusal
  if (st.ok()) {
    loaded = ordered_json::object();
    for (const auto& [name, path] : app.lora->loaded()) loaded[name] = path;
  }
  ordered_json j = {{"success", st.ok()},
                    {"error_message", st.ok() ? ordered_json(nullptr) : ordered_json(st.error().message)},
                    {"loaded_adapters", std::move(loaded)}};
  return net::Response::json(st.ok() ? 200 : 400,
                             j.dump(-1, ' ', false, ordered_json::error_handler_t::replace));
}

struct LoraRequest {
  std::string name;
  std::string path;
  bool pinned = false;
};

Result<LoraRequest> parse_lora_request(std::string_view body, bool with_path) {
  simdjson::dom::parser parser;
  SGL_ASSIGN_OR_RETURN(json::Element root, json::parse_body(parser, body));
  SGL_ASSIGN_OR_RETURN(json::Object obj, json::as_object(root, "body"));
  LoraRequest r;
  SGL_TRY(json::read(obj, "lora_name", "", r.name));
  if (r.name.empty()) return bad_body("lora_name: Field required");
  if (with_path) {
    SGL_TRY(json::read(obj, "lora_path", "", r.path));
    if (r.path.empty()) return bad_body("lora_path: Field required");
    SGL_TRY(json::read(obj, "pinned", "", r.pinned));
  }
  return r;
}

// Reading an adapter takes seconds for a big one: it runs on a thread of its own, and the reactor
// thread goes on serving while the route waits for the answer.
boost::asio::awaitable<AdapterResult> read_off_reactor(std::shared_ptr<const LoraReadContext> ctx,
                                                       LoraRequest req) {
  CallbackResult<std::shared_ptr<AdapterResult>> done;
  auto reply = done.callback();
  // Owned by this frame: joined (already finished) when the route returns, or waited for if the
  // server tears the frame down first.
  std::jthread reader([ctx = std::move(ctx), req = std::move(req), reply]() mutable {
    reply(std::make_shared<AdapterResult>(read_lora_adapter(*ctx, req.name, req.path, req.pinned)));
  });
  std::shared_ptr<AdapterResult> r = co_await done.wait();
  co_return std::move(*r);
}

}  // namespace

RouteResult handle_load_lora_adapter(App& app, net::Exchange& ex) {
  if (!app.lora) co_return lora_reply(app, lora_disabled());
  auto req = parse_lora_request(ex.request().body, /*with_path=*/true);
  if (!req.ok()) co_return lora_reply(app, req.error());
  spdlog::info("Start load Lora adapter. Lora name={}, path={}", req->name, req->path);
  if (auto st = app.lora->check_add(req->name, req->path, req->pinned); !st.ok())
    co_return lora_reply(app, st);
  AdapterResult adapter = co_await read_off_reactor(app.lora->read_context(), *req);
  if (!adapter.ok()) co_return lora_reply(app, adapter.error());
  co_return lora_reply(app, app.lora->add(std::move(adapter).value()));
}

RouteResult handle_unload_lora_adapter(App& app, net::Exchange& ex) {
  if (!app.lora) co_return lora_reply(app, lora_disabled());
  auto req = parse_lora_request(ex.request().body, /*with_path=*/false);
  if (!req.ok()) co_return lora_reply(app, req.error());
  spdlog::info("Start unload Lora adapter. Lora name={}", req->name);
  // From here new requests naming it are refused; the ones already in flight finish with it.
  auto entry = app.lora->remove(req->name);
  if (!entry.ok()) co_return lora_reply(app, entry.error());
  const std::shared_ptr<const LoraEntry> gone = *entry;
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  while (gone->in_flight.load(std::memory_order_acquire) > 0) {
    timer.expires_after(std::chrono::milliseconds(5));
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
  // No request holds it now: the scheduler empties its slot and frees its prefix cache.
  CallbackResult<bool> dropped;
  auto reply = dropped.callback();
  std::function<void()> on_dropped = [reply]() mutable { reply(true); };
  app.scheduler->drop_lora(gone->adapter->uid, std::move(on_dropped));
  co_await dropped.wait();
  co_return lora_reply(app, ok_status());
}

}  // namespace sgl::server
