// /open_session and /close_session (SGLang's routes; server/session_store.h keeps the turns).
// /open_session answers the session id as a JSON string; /close_session answers 200 with no body,
// whether or not the session was open (as SGLang).
#include <nlohmann/json.hpp>

#include "server/routes/route_util.h"
#include "server/routes/routes.h"
#include "server/session_store.h"

namespace sgl::server {

RouteResult handle_open_session(App& app, net::Exchange& ex) {
  auto req = parse_open_session(ex.request().body);
  if (!req.ok()) co_return native_error(req.error());
  auto id = app.sessions->open(*req);
  if (!id.ok()) co_return native_error(id.error());
  co_return net::Response::json(200, nlohmann::json(*id).dump());
}

RouteResult handle_close_session(App& app, net::Exchange& ex) {
  auto id = parse_close_session(ex.request().body);
  if (!id.ok()) co_return native_error(id.error());
  app.sessions->close(*id);
  co_return net::Response::text(200, "");
}

}  // namespace sgl::server
