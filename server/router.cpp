// The route table, the API-key check and one log line per request.
#include <spdlog/spdlog.h>

#include <chrono>

#include "server/app.h"
#include "server/protocol/logging_config.h"
#include "server/routes/route_util.h"
#include "server/routes/routes.h"

namespace sgl::server {
namespace {

// Compares without an early exit so response timing does not reveal how much of the key matched.
bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

bool needs_key(std::string_view path) {
  return !(path.starts_with("/health") || path.starts_with("/metrics"));
}

using RouteFn = RouteResult (*)(App&, net::Exchange&);

net::Handler wrap(App& app, RouteFn fn) {
  return [&app, fn](net::Exchange& ex) -> boost::asio::awaitable<net::Response> {
    const auto& req = ex.request();
    if (!app.args.api_key.empty() && needs_key(req.path)) {
      std::string expected = "Bearer " + app.args.api_key;
      if (!constant_time_equal(req.header("Authorization"), expected))
        co_return net::Response::json(401, unauthorized_body());
    }
    auto t0 = std::chrono::steady_clock::now();
    // --log-requests, switchable at run time by /configure_logging; at info level as SGLang logs it.
    // The json format logs generations instead, with their rids and outputs (LogNoteOnExit).
    if (app.runtime.log_requests.load(std::memory_order_relaxed) &&
        !app.runtime.log_requests_json.load(std::memory_order_relaxed))
      spdlog::info(
          "{} {} body: {}", req.method, req.path,
          request_log_text(req.body, app.runtime.log_requests_level.load(std::memory_order_relaxed)));
    net::Response r = co_await fn(app, ex);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (req.path != "/health" && req.path != "/metrics")
      (app.http_log ? *app.http_log : *spdlog::default_logger())
          .info("{} {} {} {:.1f} ms{}{}", req.method, req.path, ex.streaming() ? 200 : r.status, ms,
                ex.log_note().empty() ? "" : " ", ex.log_note());
    co_return r;
  };
}

}  // namespace

net::Router make_router(App& app) {
  net::Router r;
  r.set_error_formatter([&app](int status, std::string_view message, const net::Request& req) {
    Error e{status == 404   ? ErrorCode::kNotFound
            : status >= 500 ? ErrorCode::kUnavailable
                            : ErrorCode::kInvalidArgument,
            std::string(message)};
    // The status's own phrase first, as SGLang's answer reads, then the limit and the flag to raise it.
    if (status == 413)
      e.message = "Payload Too Large: the request body is over the " +
                  std::to_string(app.args.max_payload_size) + "-byte limit (--max-payload-size)";
    std::string body = req.path.starts_with("/v1/") ? openai_error_body(e) : native_error_body(e);
    // Keep the net layer's exact status (405, 408, 413, 431, ...) in the OpenAI `code` too.
    if (req.path.starts_with("/v1/")) {
      auto pos = body.rfind("\"code\":");
      if (pos != std::string::npos) body = body.substr(0, pos) + "\"code\":" + std::to_string(status) + "}";
    }
    net::Response resp = net::Response::json(status, std::move(body));
    return with_retry_after(std::move(resp));
  });
  r.get("/health", wrap(app, handle_health));
  r.get("/ping", wrap(app, handle_health));
  r.get("/health_generate", wrap(app, handle_health_generate));
  r.post("/generate", wrap(app, handle_generate));
  r.add("PUT", "/generate", wrap(app, handle_generate));
  r.post("/generate_from_file", wrap(app, handle_generate_from_file));
  r.post("/v1/completions", wrap(app, handle_completions));
  r.post("/v1/chat/completions", wrap(app, handle_chat_completions));
  r.get("/v1/models", wrap(app, handle_models));
  r.get("/v1/models/" + app.args.served_model_name, wrap(app, handle_model_card));
  r.add_prefix("GET", "/v1/models/", wrap(app, handle_model_card));  // any other name: OpenAI's 404
  r.get("/get_model_info", wrap(app, handle_get_model_info));
  r.get("/model_info", wrap(app, handle_get_model_info));
  r.get("/get_server_info", wrap(app, handle_get_server_info));
  r.get("/server_info", wrap(app, handle_get_server_info));
  r.get("/get_load", wrap(app, handle_get_load));
  r.get("/flush_cache", wrap(app, handle_flush_cache));
  r.post("/flush_cache", wrap(app, handle_flush_cache));
  r.post("/abort_request", wrap(app, handle_abort_request));
  r.get("/profile_status", wrap(app, handle_profile_status));
  // As SGLang: the Prometheus page exists only with --enable-metrics (404 otherwise).
  if (app.args.enable_metrics) r.get("/metrics", wrap(app, handle_metrics));
  r.post("/update_weights_from_disk", wrap(app, handle_update_weights));
  r.post("/tokenize", wrap(app, handle_tokenize));
  r.post("/v1/tokenize", wrap(app, handle_tokenize));
  r.post("/detokenize", wrap(app, handle_detokenize));
  r.post("/v1/detokenize", wrap(app, handle_detokenize));
  r.post("/separate_reasoning", wrap(app, handle_separate_reasoning));
  r.post("/parse_function_call", wrap(app, handle_parse_function_call));
  r.get("/get_weight_version", wrap(app, handle_get_weight_version));
  r.get("/weight_version", wrap(app, handle_get_weight_version));
  r.get("/configure_logging", wrap(app, handle_configure_logging));
  r.post("/configure_logging", wrap(app, handle_configure_logging));
  r.post("/invocations", wrap(app, handle_invocations));
  r.post("/v1/score", wrap(app, handle_score));
  r.post("/v1/responses", wrap(app, handle_responses));
  r.add_prefix("GET", "/v1/responses/", wrap(app, handle_get_response));
  r.add_prefix("DELETE", "/v1/responses/", wrap(app, handle_delete_response));
  r.add_prefix("POST", "/v1/responses/", wrap(app, handle_cancel_response));  // {id}/cancel
  r.post("/v1/embeddings", wrap(app, handle_embeddings));
  r.post("/encode", wrap(app, handle_encode));
  r.post("/pause_generation", wrap(app, handle_pause_generation));
  r.post("/continue_generation", wrap(app, handle_continue_generation));
  for (const char* m : {"GET", "POST"}) {  // SGLang's api_route(methods=["GET", "POST"])
    r.add(m, "/release_memory_occupation", wrap(app, handle_release_memory_occupation));
    r.add(m, "/resume_memory_occupation", wrap(app, handle_resume_memory_occupation));
    r.add(m, "/start_profile", wrap(app, handle_start_profile));
    r.add(m, "/stop_profile", wrap(app, handle_stop_profile));
    r.add(m, "/open_session", wrap(app, handle_open_session));
    r.add(m, "/close_session", wrap(app, handle_close_session));
    r.add(m, "/start_trace", wrap(app, handle_start_trace));
    r.add(m, "/stop_trace", wrap(app, handle_stop_trace));
    r.add(m, "/trace_status", wrap(app, handle_trace_status));
  }
  r.post("/set_internal_state", wrap(app, handle_set_internal_state));
  r.add("PUT", "/set_internal_state", wrap(app, handle_set_internal_state));
  r.post("/classify", wrap(app, handle_classify));
  r.post("/v1/classify", wrap(app, handle_v1_classify));
  r.add("PUT", "/classify", wrap(app, handle_classify));
  r.post("/v1/rerank", wrap(app, handle_rerank));
  r.add("PUT", "/v1/rerank", wrap(app, handle_rerank));
  r.post("/load_lora_adapter", wrap(app, handle_load_lora_adapter));
  r.post("/unload_lora_adapter", wrap(app, handle_unload_lora_adapter));
  return r;
}

}  // namespace sgl::server
