// RL-trainer and operations control: /pause_generation, /continue_generation,
// /release_memory_occupation, /resume_memory_occupation and /set_internal_state. The scheduler
// does the work on its own thread (sched/pause_control.cpp); each handler waits for its answer.
#include <spdlog/spdlog.h>

#include <atomic>
#include <nlohmann/json.hpp>

#include "net/async_notifier.h"
#include "server/protocol/object_body.h"
#include "server/routes/callback_result.h"
#include "server/routes/route_util.h"
#include "server/routes/routes.h"

namespace sgl::server {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

// SGLang's memory tags: kv_cache (the KV pool) and weights (freed, then reloaded on resume from
// the checkpoint last loaded); no tags means every kind. cuda_graph memory is not separately
// releasable: the tag is accepted and has nothing to do.
Result<sched::MemoryTags> memory_tags(const json& body) {
  auto it = body.find("tags");
  if (it == body.end() || it->is_null()) return sched::MemoryTags{};
  if (!it->is_array()) return invalid_argument("tags: must be a list of strings");
  sched::MemoryTags tags{false, false};
  for (const auto& t : *it) {
    if (!t.is_string()) return invalid_argument("tags: must be a list of strings");
    const auto tag = t.get<std::string>();
    if (tag == "kv_cache") {
      tags.kv_cache = true;
    } else if (tag == "weights") {
      tags.weights = true;
    } else if (tag != "cuda_graph") {
      return invalid_argument("tags: unknown tag '" + tag +
                              "' (expected \"kv_cache\", \"weights\" or \"cuda_graph\")");
    }
  }
  return tags;
}

RouteResult memory_occupation(App& app, net::Exchange& ex, bool release) {
  auto body = parse_object_body(ex.request().body);
  if (!body.ok()) co_return native_error(body.error());
  auto tags = memory_tags(*body);
  if (!tags.ok()) co_return native_error(tags.error());
  if (tags->kv_cache || tags->weights) {
    CallbackResult<Status> done;
    if (release)
      app.scheduler->release_memory(*tags, done.callback());
    else
      app.scheduler->resume_memory(*tags, done.callback());
    Status st = co_await done.wait();
    if (!st.ok()) co_return native_error(st.error());
  }
  co_return net::Response::json(200, "null");  // SGLang's handler returns None
}

}  // namespace

RouteResult handle_pause_generation(App& app, net::Exchange& ex) {
  auto body = parse_object_body(ex.request().body);
  if (!body.ok()) co_return native_error(body.error());
  sched::PauseMode mode = sched::PauseMode::kAbort;
  if (auto it = body->find("mode"); it != body->end() && !it->is_null()) {
    const std::string m = it->is_string() ? it->get<std::string>() : it->dump();
    if (m == "abort")
      mode = sched::PauseMode::kAbort;
    else if (m == "retract")
      mode = sched::PauseMode::kRetract;
    else if (m == "in_place")
      mode = sched::PauseMode::kInPlace;
    else
      co_return native_error(
          invalid_argument("Invalid mode: " + m + ". Expected one of 'abort', 'retract', 'in_place'."));
  }
  CallbackResult<bool> done;
  auto cb = done.callback();
  app.scheduler->pause_generation(mode, [cb] { cb(true); });
  co_await done.wait();
  ordered_json j = {{"message", "Generation paused successfully."}, {"status", "ok"}};
  co_return net::Response::json(200, j.dump());
}

RouteResult handle_continue_generation(App& app, net::Exchange&) {
  CallbackResult<bool> done;
  auto cb = done.callback();
  app.scheduler->continue_generation([cb] { cb(true); });
  co_await done.wait();
  ordered_json j = {{"message", "Generation continued successfully."}, {"status", "ok"}};
  co_return net::Response::json(200, j.dump());
}

RouteResult handle_release_memory_occupation(App& app, net::Exchange& ex) {
  return memory_occupation(app, ex, true);
}

RouteResult handle_resume_memory_occupation(App& app, net::Exchange& ex) {
  return memory_occupation(app, ex, false);
}

// SGLang: {"server_args": {...}} → {"updated": bool, "server_args": {...}}. The keys SGLang lets
// one change at run time are about pipeline parallelism and speculative acceptance thresholds,
// neither of which sglcpp has, so nothing is settable here: an empty object reads the args back,
// any key is refused naming why.
RouteResult handle_set_internal_state(App& app, net::Exchange& ex) {
  auto body = parse_object_body(ex.request().body);
  if (!body.ok()) co_return native_error(body.error());
  auto it = body->find("server_args");
  if (it == body->end() || !it->is_object())
    co_return native_error(invalid_argument("server_args: Field required (a JSON object)"));
  for (const auto& [key, value] : it->items()) {
    (void)value;
    if (key == "pp_max_micro_batch_size" || key == "max_micro_batch_size")
      co_return native_error(
          unsupported("Updating " + key + " is not supported: sglcpp has no pipeline parallelism."));
    if (key == "speculative_accept_threshold_single" || key == "speculative_accept_threshold_acc")
      co_return native_error(unsupported("Updating " + key +
                                         " is not supported: sglcpp's EAGLE3 verification has no "
                                         "acceptance thresholds."));
    co_return native_error(invalid_argument("Updating " + key + " is not supported."));
  }
  ordered_json j = {{"updated", true}, {"server_args", ordered_json::parse(server_args_to_json(app.args))}};
  co_return net::Response::json(200, j.dump(-1, ' ', false, ordered_json::error_handler_t::replace));
}

}  // namespace sgl::server
