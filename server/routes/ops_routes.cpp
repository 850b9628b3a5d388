// Operations routes: the weight version an RL trainer reads back after a weight update, and the
// request-logging switches an operator flips without a restart.
#include <spdlog/spdlog.h>

#include <cctype>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server/protocol/logging_config.h"
#include "server/routes/route_util.h"
#include "server/routes/routes.h"

namespace sgl::server {
RouteResult handle_get_weight_version(App& app, net::Exchange&) {
  nlohmann::ordered_json j = {{"weight_version", app.runtime.weight_version()}};
  co_return net::Response::json(200, j.dump());
}

RouteResult handle_configure_logging(App& app, net::Exchange& ex) {
  auto cfg = parse_logging_config(ex.request().body);
  if (!cfg.ok()) co_return openai_error(cfg.error());
  if (cfg->log_requests) app.runtime.log_requests = *cfg->log_requests;
  if (cfg->log_requests_level) app.runtime.log_requests_level = static_cast<int>(*cfg->log_requests_level);
  if (cfg->log_requests_format) app.runtime.log_requests_json = *cfg->log_requests_format == "json";
  if (cfg->log_level) spdlog::set_level(spdlog_level_of(*cfg->log_level));
  if (cfg->crash_dump_folder) app.crash_dump->set_folder(*cfg->crash_dump_folder);
  if (cfg->dump_requests_folder)
    spdlog::warn(
        "configure_logging: dump_requests_folder is not supported (SGLang's pickled replay dumps); ignored");
  spdlog::info("configure_logging: log_requests={} log_requests_level={} log_requests_format={}",
               app.runtime.log_requests.load(), app.runtime.log_requests_level.load(),
               app.runtime.log_requests_json.load() ? "json" : "text");
  co_return net::Response::text(200, "");
}

// SageMaker's /invocations is SGLang's chat completions without the media-type check: SageMaker
// forwards whatever Content-Type its caller used.
RouteResult handle_invocations(App& app, net::Exchange& ex) {
  auto& headers = ex.request().headers;
  std::erase_if(headers, [](const auto& h) {
    std::string name = h.first;
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return name == "content-type";
  });
  headers.emplace_back("Content-Type", "application/json");
  co_return co_await handle_chat_completions(app, ex);
}

}  // namespace sgl::server
