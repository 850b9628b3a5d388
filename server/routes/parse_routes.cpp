// /separate_reasoning and /parse_function_call: the server's reasoning and tool-call parsers
// offered on their own, for clients that generate through /generate and split the text after.
// Errors take the flat OpenAI shape SGLang gives every body-validation error.
#include "server/protocol/parse_routes_io.h"
#include "server/routes/route_util.h"
#include "server/routes/routes.h"

namespace sgl::server {

RouteResult handle_separate_reasoning(App&, net::Exchange& ex) {
  auto body = separate_reasoning_json(ex.request().body);
  if (!body.ok()) co_return openai_error(body.error());
  co_return net::Response::json(200, std::move(body).value());
}

RouteResult handle_parse_function_call(App&, net::Exchange& ex) {
  auto body = parse_function_call_json(ex.request().body);
  if (!body.ok()) co_return openai_error(body.error());
  co_return net::Response::json(200, std::move(body).value());
}

}  // namespace sgl::server
