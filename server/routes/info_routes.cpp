// Health, model and server information, cache flush, abort, metrics, weight updates.
#include <nlohmann/json.hpp>

#include "server/generation.h"
#include "server/protocol/json_fields.h"
#include "server/protocol/percent_decode.h"
#include "server/protocol/request_id.h"
#include "server/routes/callback_result.h"
#include "server/routes/route_util.h"
#include "server/routes/routes.h"

namespace sgl::server {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

using nlohmann::ordered_json;

ordered_json model_card(const App& app) {
  return {{"id", app.args.served_model_name},
          {"object", "model"},
          {"created", unix_now()},
          {"owned_by", "sglang"},
          {"root", app.args.served_model_name},
          {"parent", nullptr},
          {"max_model_len", app.limits.context_length}};
}

// SGLang lists each loaded LoRA adapter as a model of its own, the served model as its parent.
ordered_json adapter_card(const App& app, const std::string& name, const std::string& path) {
  return {{"id", name},
          {"object", "model"},
          {"created", unix_now()},
          {"owned_by", "sglang"},
          {"root", path},
          {"parent", app.args.served_model_name},
          {"max_model_len", nullptr}};
}

// The adapter pool's state (slots from the scheduler, names and in-flight holds from the registry):
// after traffic, slots_used may stay up (adapters stay cached) but in_flight_requests returns to 0.
ordered_json lora_pool_json(const App& app, const sched::SchedulerStats& s) {
  ordered_json names = ordered_json::array();
  for (const auto& [name, path] : app.lora->loaded()) names.push_back(name);
  return {{"slots_total", s.lora_slots_total},
          {"slots_used", s.lora_slots_used},
          {"slot_loads", s.lora_slot_loads},
          {"evictions", s.lora_evictions},
          {"max_lora_rank", app.lora->max_rank()},
          {"loaded_adapters", std::move(names)},
          {"in_flight_requests", app.lora->in_flight()}};
}

}  // namespace

RouteResult handle_health(App& app, net::Exchange&) {
  co_return net::Response::text(app.ready.load() ? 200 : 503, "");
}

RouteResult handle_health_generate(App& app, net::Exchange& ex) {
  if (!app.ready.load()) co_return net::Response::text(503, "");
  GenerateItem item;
  item.rid = "HEALTH_CHECK_" + std::to_string(unix_now()) + "_" + new_request_id().substr(0, 8);
  item.sampling.max_new_tokens = 1;
  item.sampling.temperature = 0;
  item.sampling.ignore_eos = true;
  auto gen = std::make_shared<Generation>(app);
  if (!gen->submit({item}, {{0}}).ok()) co_return net::Response::text(503, "");
  while (co_await gen->next()) {
    if (!gen->items()[0].out.output_ids.empty()) break;
  }
  bool ok = !gen->items()[0].out.output_ids.empty();
  co_return net::Response::text(ok ? 200 : 503, "");
}

RouteResult handle_models(App& app, net::Exchange&) {
  ordered_json data = ordered_json::array({model_card(app)});
  if (app.lora)
    for (const auto& [name, path] : app.lora->loaded()) data.push_back(adapter_card(app, name, path));
  ordered_json j = {{"object", "list"}, {"data", std::move(data)}};
  co_return net::Response::json(200, j.dump());
}

RouteResult handle_model_card(App& app, net::Exchange& ex) {
  const std::string& path = ex.request().path;
  // SDKs percent-encode the id (a served name is often a path with '/').
  std::string name = percent_decode(std::string_view(path).substr(std::string_view("/v1/models/").size()));
  if (name != app.args.served_model_name) {
    if (app.lora)
      for (const auto& [adapter, root] : app.lora->loaded())
        if (adapter == name) co_return net::Response::json(200, adapter_card(app, adapter, root).dump());
    co_return net::Response::json(404, openai_model_not_found_body(name));
  }
  co_return net::Response::json(200, model_card(app).dump());
}

RouteResult handle_get_model_info(App& app, net::Exchange&) {
  const auto& info = app.runner().info();
  ordered_json j = {{"model_path", app.args.model_path},
                    {"tokenizer_path", app.args.tokenizer_path},
                    {"is_generation", !app.args.is_embedding},
                    {"preferred_sampling_params", app.args.preferred_sampling_params.empty()
                                                      ? ordered_json(nullptr)
                                                      : ordered_json(app.args.preferred_sampling_params)},
                    {"weight_version", app.runtime.weight_version()},
                    {"model_type", info.model_type},
                    {"architectures", ordered_json::array({info.architecture})}};
  co_return net::Response::json(200, j.dump());
}

RouteResult handle_get_server_info(App& app, net::Exchange&) {
  ordered_json j = ordered_json::parse(server_args_to_json(app.args));
  const auto& lim = app.scheduler->limits();
  auto s = app.scheduler->stats();
  j["context_length"] = app.limits.context_length;
  j["status"] = "ready";
  j["max_total_num_tokens"] = lim.max_total_num_tokens;
  j["max_req_input_len"] = lim.max_req_input_len;
  j["max_running_requests"] = lim.max_running_requests;
  j["chunked_prefill_size"] = lim.chunked_prefill_size;
  j["max_prefill_tokens"] = lim.max_prefill_tokens;
  // One entry per data-parallel replica, as SGLang lists its DP ranks.
  j["internal_states"] = ordered_json::array();
  const auto replicas =
      app.scheduler->size() == 1 ? std::vector<sched::SchedulerStats>{s} : app.scheduler->replica_stats();
  const auto routed = app.scheduler->routed_counts();
  for (size_t i = 0; i < replicas.size(); ++i) {
    const sched::SchedulerStats& r = replicas[i];
    const int64_t capacity = app.scheduler->replica(static_cast<int>(i)).limits().max_total_num_tokens;
    const engine::ModelInfo& info = app.runners[std::min(i, app.runners.size() - 1)]->info();
    ordered_json st = {
        {"dp_rank", i},
        {"last_gen_throughput", r.gen_throughput},
        {"avg_spec_accept_length",
         r.avg_spec_accept_length > 0 ? ordered_json(r.avg_spec_accept_length) : ordered_json(nullptr)},
        // SGLang's units: GB of weights and of KV pool (unrounded: a tiny model's would read 0),
        // the pool's size in tokens.
        {"memory_usage",
         {{"weight", double(info.weight_bytes) / kGiB},
          {"kvcache", double(info.kv_bytes_per_token) * double(capacity) / kGiB},
          {"token_capacity", capacity},
          {"graph", 0.0}}},
        {"waiting_queue_size", r.num_queue_reqs},
        {"running_batch_size", r.num_running_reqs},
        {"num_used_tokens", r.num_used_tokens},
        {"available_kv_tokens", capacity - r.num_used_tokens},
        {"token_usage", r.token_usage},
        {"cache_hit_rate", r.cache_hit_rate},
        {"radix_protected_tokens", r.radix_protected_tokens},
        {"radix_locked_nodes", r.radix_locked_nodes},
        {"num_free_pages", r.num_free_pages},
        {"num_total_pages", r.num_total_pages},
        {"num_generated_tokens", r.num_generated_tokens},
        {"num_finished_reqs", r.num_finished_reqs},
        {"idle", r.idle}};
    if (app.scheduler->size() > 1) st["dp_routed_requests"] = routed[i];
    j["internal_states"].push_back(std::move(st));
  }
  if (app.scheduler->size() > 1)
    j["dp_schedule_policy_in_effect"] = sched::dp_policy_name(app.scheduler->policy());
  if (app.lora) j["lora_pool"] = lora_pool_json(app, s);
  j["version"] = "0.1.0";
  co_return net::Response::json(200, j.dump(-1, ' ', false, ordered_json::error_handler_t::replace));
}

RouteResult handle_get_load(App& app, net::Exchange&) {
  auto s = app.scheduler->stats();
  ordered_json j = {{"load",
                     {{"num_running_reqs", s.num_running_reqs},
                      {"num_waiting_reqs", s.num_queue_reqs},
                      {"num_tokens", s.num_used_tokens},
                      {"token_usage", s.token_usage}}}};
  co_return net::Response::json(200, j.dump());
}

RouteResult handle_flush_cache(App& app, net::Exchange&) {
  CallbackResult<bool> done;
  app.scheduler->flush_cache(done.callback());
  bool ok = co_await done.wait();
  std::string body =
      "Cache flushed.\nPlease check backend logs for more details. (When there are running or waiting "
      "requests, the "
      "operation will not be performed.)\n";
  if (!ok) body += "Reason: there are running or waiting requests.\n";
  co_return net::Response::text(ok ? 200 : 400, body);
}

RouteResult handle_abort_request(App& app, net::Exchange& ex) {
  simdjson::dom::parser parser;
  auto root = json::parse_body(parser, ex.request().body);
  if (!root.ok()) co_return native_error(root.error());
  auto obj = json::as_object(*root, "body");
  if (!obj.ok()) co_return native_error(obj.error());
  std::string rid;
  bool abort_all = false;
  if (auto st = json::read(*obj, "rid", "", rid); !st.ok()) co_return native_error(st.error());
  if (auto st = json::read(*obj, "abort_all", "", abort_all); !st.ok()) co_return native_error(st.error());
  if (!rid.empty()) app.scheduler->abort(rid);
  // The scheduler aborts by rid only: abort_all aborts every rid this server has in flight
  // (running or queued); each ends with the same abort finish_reason as a rid abort.
  if (abort_all)
    for (const auto& r : app.inflight.snapshot()) app.scheduler->abort(r);
  co_return net::Response::text(200, "");
}

RouteResult handle_metrics(App& app, net::Exchange&) {
  co_return net::Response::text(200,
                                app.metrics.render(app.args.served_model_name, app.scheduler->replica_stats(),
                                                   app.scheduler->histograms()),
                                "text/plain; version=0.0.4; charset=utf-8");
}

RouteResult handle_update_weights(App& app, net::Exchange& ex) {
  simdjson::dom::parser parser;
  auto root = json::parse_body(parser, ex.request().body);
  if (!root.ok()) co_return native_error(root.error());
  auto obj = json::as_object(*root, "body");
  if (!obj.ok()) co_return native_error(obj.error());
  std::string path;
  if (auto st = json::read(*obj, "model_path", "", path); !st.ok()) co_return native_error(st.error());
  if (path.empty()) co_return native_error(bad_body("model_path: Field required"));
  // An RL trainer tags the weights it pushes; the tag is set only once the load succeeded.
  std::optional<std::string> version;
  if (auto st = json::read(*obj, "weight_version", "", version); !st.ok()) co_return native_error(st.error());
  CallbackResult<Status> done;
  // Every replica reloads (each paused while its runner swaps); a failure anywhere is reported.
  App* a = &app;
  app.scheduler->run_exclusive(
      [a, path](int i) { return a->runners[static_cast<size_t>(i)]->load_weights_from_disk(path); },
      done.callback());
  Status st = co_await done.wait();
  if (st.ok() && version) app.runtime.set_weight_version(*version);
  ordered_json j = {
      {"success", st.ok()},
      {"message", st.ok() ? std::string("Succeeded to update model weights.") : st.error().message},
      {"num_paused_requests", 0}};
  co_return net::Response::json(st.ok() ? 200 : 400, j.dump());
}

}  // namespace sgl::server
