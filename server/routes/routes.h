// The route handlers (one file each under server/routes/), registered by make_router.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "net/exchange.h"
#include "net/http_message.h"
#include "server/app.h"
#include "server/protocol/generate_request.h"

namespace sgl::server {

using RouteResult = boost::asio::awaitable<net::Response>;

RouteResult handle_generate(App& app, net::Exchange& ex);
// /generate once its body is parsed (also /generate_from_file's): tokenize, submit, answer.
RouteResult serve_generate(App& app, net::Exchange& ex, GenerateRequest req);
RouteResult handle_generate_from_file(App& app, net::Exchange& ex);
RouteResult handle_completions(App& app, net::Exchange& ex);
RouteResult handle_chat_completions(App& app, net::Exchange& ex);
RouteResult handle_health(App& app, net::Exchange& ex);
RouteResult handle_health_generate(App& app, net::Exchange& ex);
RouteResult handle_models(App& app, net::Exchange& ex);
RouteResult handle_model_card(App& app, net::Exchange& ex);
RouteResult handle_get_model_info(App& app, net::Exchange& ex);
RouteResult handle_get_server_info(App& app, net::Exchange& ex);
RouteResult handle_get_load(App& app, net::Exchange& ex);
RouteResult handle_flush_cache(App& app, net::Exchange& ex);
RouteResult handle_abort_request(App& app, net::Exchange& ex);
RouteResult handle_metrics(App& app, net::Exchange& ex);
RouteResult handle_update_weights(App& app, net::Exchange& ex);
RouteResult handle_tokenize(App& app, net::Exchange& ex);
RouteResult handle_detokenize(App& app, net::Exchange& ex);
RouteResult handle_separate_reasoning(App& app, net::Exchange& ex);
RouteResult handle_parse_function_call(App& app, net::Exchange& ex);
RouteResult handle_get_weight_version(App& app, net::Exchange& ex);
RouteResult handle_configure_logging(App& app, net::Exchange& ex);
RouteResult handle_invocations(App& app, net::Exchange& ex);
RouteResult handle_score(App& app, net::Exchange& ex);
RouteResult handle_responses(App& app, net::Exchange& ex);
RouteResult handle_get_response(App& app, net::Exchange& ex);
RouteResult handle_delete_response(App& app, net::Exchange& ex);
RouteResult handle_cancel_response(App& app, net::Exchange& ex);
RouteResult handle_embeddings(App& app, net::Exchange& ex);
RouteResult handle_encode(App& app, net::Exchange& ex);
// rl_control_routes.cpp
RouteResult handle_pause_generation(App& app, net::Exchange& ex);
RouteResult handle_continue_generation(App& app, net::Exchange& ex);
RouteResult handle_release_memory_occupation(App& app, net::Exchange& ex);
RouteResult handle_resume_memory_occupation(App& app, net::Exchange& ex);
RouteResult handle_set_internal_state(App& app, net::Exchange& ex);
RouteResult handle_classify(App& app, net::Exchange& ex);
RouteResult handle_v1_classify(App& app, net::Exchange& ex);
RouteResult handle_rerank(App& app, net::Exchange& ex);
// lora_routes.cpp
RouteResult handle_load_lora_adapter(App& app, net::Exchange& ex);
RouteResult handle_unload_lora_adapter(App& app, net::Exchange& ex);
RouteResult handle_start_profile(App& app, net::Exchange& ex);
RouteResult handle_stop_profile(App& app, net::Exchange& ex);
RouteResult handle_profile_status(App& app, net::Exchange& ex);
RouteResult handle_open_session(App& app, net::Exchange& ex);
RouteResult handle_close_session(App& app, net::Exchange& ex);
RouteResult handle_start_trace(App& app, net::Exchange& ex);
RouteResult handle_stop_trace(App& app, net::Exchange& ex);
RouteResult handle_trace_status(App& app, net::Exchange& ex);

}  // namespace sgl::server
