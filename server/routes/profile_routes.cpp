// /start_profile, /stop_profile and /profile_status (SGLang's routes; server/profiler.h records
// and writes the trace). SGLang answers their failures with a bare 500; here a request that cannot
// be honoured (already profiling, nothing to stop, a directory it cannot write) is a 400 in the
// native error shape, with SGLang's message.
#include <nlohmann/json.hpp>

#include "server/profiler.h"
#include "server/routes/callback_result.h"
#include "server/routes/route_util.h"
#include "server/routes/routes.h"

namespace sgl::server {

RouteResult handle_start_profile(App& app, net::Exchange& ex) {
  auto opt = parse_profile_request(ex.request().body);
  if (!opt.ok()) co_return native_error(opt.error());
  if (Status st = app.profiler->start(*opt); !st.ok()) co_return native_error(st.error());
  co_return net::Response::text(200, "Start profiling.\n");
}

RouteResult handle_stop_profile(App& app, net::Exchange&) {
  CallbackResult<Status> written;
  auto done = [cb = written.callback()](Result<std::string> path) {
    cb(path.ok() ? ok_status() : Status(path.error()));
  };
  if (Status st = app.profiler->stop(std::move(done)); !st.ok()) co_return native_error(st.error());
  if (Status st = co_await written.wait(); !st.ok()) co_return native_error(st.error());
  co_return net::Response::text(200, "Stop profiling. This will take some time.\n");
}

RouteResult handle_profile_status(App& app, net::Exchange&) {
  nlohmann::ordered_json j;
  j["status"] = app.profiler->in_progress() ? "in_progress" : "idle";
  co_return net::Response::json(200, j.dump());
}

}  // namespace sgl::server
