// /start_trace, /stop_trace and /trace_status: SGLang-JAX's precision tracer
// (sched/precision_tracer.h), answered in its JSON ({"status": "ok" | "error", "message", ...}).
// Unlike SGLang-JAX, a second /start_trace and a /stop_trace with nothing running are errors,
// and req_num may be left out (the trace then runs until /stop_trace).
#include <fmt/format.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <random>

#include "server/protocol/object_body.h"
#include "server/routes/route_util.h"
#include "server/routes/routes.h"

namespace sgl::server {
namespace {

using Json = nlohmann::json;
using nlohmann::ordered_json;

net::Response trace_error(int status, const std::string& message) {
  ordered_json j;
  j["message"] = message;
  j["status"] = "error";
  return net::Response::json(status, j.dump());
}

// SGLang-JAX's default: debug_outputs/request_traces_<unix time>_<4 random digits>.jsonl.
std::string default_trace_file() {
  const auto secs =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  std::mt19937 rng(std::random_device{}());
  return fmt::format("debug_outputs/request_traces_{}_{}.jsonl", secs,
                     std::uniform_int_distribution<int>(1000, 9999)(rng));
}

const char* kDisabled =
    "Precision tracer is disabled. Server must be started with --enable-precision-tracer flag.";

}  // namespace

RouteResult handle_start_trace(App& app, net::Exchange& ex) {
  if (!app.precision_tracer) co_return trace_error(400, kDisabled);
  auto parsed = parse_object_body(ex.request().body);
  if (!parsed.ok()) co_return trace_error(400, parsed.error().message);
  const Json& body = *parsed;
  std::optional<int64_t> req_num;
  if (auto it = body.find("req_num"); it != body.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() <= 0)
      co_return trace_error(400, "req_num: must be a positive integer");
    req_num = it->get<int64_t>();
  }
  std::string file = default_trace_file();
  if (auto it = body.find("output_file"); it != body.end() && !it->is_null()) {
    if (!it->is_string() || it->get_ref<const std::string&>().empty())
      co_return trace_error(400, "output_file: must be a non-empty string");
    file = it->get<std::string>();
  }
  if (auto it = body.find("save_tensor"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean()) co_return trace_error(400, "save_tensor: must be a boolean");
    if (it->get<bool>())
      co_return trace_error(400, "save_tensor: sglcpp's tracer records statistics only, not the tensors");
  }
  if (Status st = app.precision_tracer->start(req_num, file); !st.ok())
    co_return trace_error(400, st.error().message);
  ordered_json j;
  j["message"] = "Precision tracing started successfully.";
  j["status"] = "ok";
  j["req_num"] = req_num ? Json(*req_num) : Json(nullptr);
  j["output_file"] = file;
  j["save_tensor"] = false;
  co_return net::Response::json(200, j.dump());
}

RouteResult handle_stop_trace(App& app, net::Exchange&) {
  if (!app.precision_tracer) co_return trace_error(400, kDisabled);
  auto file = app.precision_tracer->stop();
  if (!file.ok()) co_return trace_error(400, file.error().message);
  ordered_json j;
  j["message"] = "Precision tracing stopped successfully.";
  j["status"] = "ok";
  j["output_file"] = *file;
  co_return net::Response::json(200, j.dump());
}

RouteResult handle_trace_status(App& app, net::Exchange&) {
  if (!app.precision_tracer) co_return trace_error(400, kDisabled);
  const auto s = app.precision_tracer->status();
  ordered_json j;
  j["status"] = "ok";
  j["trace_active"] = s.active;
  j["request_counter"] = s.request_counter;
  j["completed_requests"] = s.completed;
  j["max_requests"] = s.max_requests ? Json(*s.max_requests) : Json(nullptr);
  j["output_file"] = s.output_file.empty() ? Json(nullptr) : Json(s.output_file);
  j["active_request_traces"] = s.active_request_traces;
  co_return net::Response::json(200, j.dump());
}

}  // namespace sgl::server
