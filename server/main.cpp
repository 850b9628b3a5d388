// sglcpp-server: parse SGLang's launch flags, load, serve, warm up, and shut down on SIGINT/SIGTERM.
#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <optional>

#include "base/idle_trim.h"
#include "net/http_server.h"
#include "server/app.h"
#include "server/args.h"
#include "server/check_env/check_env.h"
#include "server/dist_node.h"
#include "server/open_files.h"
#include "server/protocol/logging_config.h"
#include "server/stop_signals.h"

int main(int argc, char** argv) {
  using namespace sgl::server;
  ParsedArgs parsed = parse_server_args(argc, argv);
  if (parsed.exit_now) {
    std::fputs(parsed.output.c_str(), parsed.exit_code == 0 ? stdout : stderr);
    return parsed.exit_code;
  }
  const ServerArgs& args = parsed.args;
  spdlog::set_level(spdlog_level_of(args.log_level));
  spdlog::set_pattern("[%Y-%m-%d %H:%M:%S] %v");
  BuiltFeatures built;
  built.speculative = true;  // EAGLE3 (sched/spec/)
  built.multi_rank = true;   // tensor/expert parallelism, multi-node (engine/dist/)
#if SGL_HAVE_CUDA
  built.cuda = true;  // engine/cuda/ is compiled in (the toolkit was found at build time)
#endif
  // --check-env: report on this machine and the flags given, instead of serving.
  if (args.check_env || args.check_env_json) return check_env::run_check_env(parsed, built);
  // A flag naming a capability sglcpp lacks stops the start, each one named.
  for (const auto& refusal : parsed.refusals) spdlog::error("{}", refusal);
  if (!parsed.refusals.empty()) return 1;
  if (auto st = validate_server_args(args, built); !st.ok()) {
    spdlog::error("{}", st.error().message);
    return 1;
  }
  for (const auto& note : parsed.notes) spdlog::warn("{}", note);
  // Nodes other than 0 serve node 0's steps and run no HTTP (SGLang's multi-node model).
  if (args.nnodes > 1 && args.node_rank > 0) return run_dist_follower(args);

  // SIGINT/SIGTERM: blocked in every thread from here on; before the server is ready they exit at
  // once (status 0), after it they come to stop_signals.wait() below.
  StopSignals stop_signals;

  auto app = create_app(args);
  if (!app.ok()) {
    spdlog::error("Startup failed: {}", app.error().message);
    return 1;
  }
  // Returns what a busy spell freed to the system once requests and steps have stopped for a second.
  sgl::IdleMemoryTrimmer trimmer;
  std::optional<DistMonitor> dist_monitor;  // a dead or hung rank: /health 503, exit 1
  if (args.tp_size > 1 || args.nnodes > 1) dist_monitor.emplace(**app, std::chrono::milliseconds(3000));
  sgl::net::ServerOptions opts;
  opts.host = args.host;
  opts.port = uint16_t(args.port);
  opts.threads = args.http_threads;
  opts.max_request_bytes = size_t(args.max_payload_size);
  const OpenFilesPlan files = plan_open_files(size_t(args.max_connections));
  if (files.max_connections < size_t(args.max_connections))
    spdlog::warn("--max-connections {} lowered to {}: the open-files limit (ulimit -n) is {}",
                 args.max_connections, files.max_connections, files.soft_limit);
  opts.max_connections = files.max_connections;
  auto seconds = [](double s) { return std::chrono::milliseconds(int64_t(s * 1000)); };
  opts.read_timeout = seconds(args.http_read_timeout);
  opts.idle_timeout = seconds(args.http_idle_timeout);
  opts.write_timeout = seconds(args.http_write_timeout);
  auto server = sgl::net::HttpServer::start(opts, make_router(**app));
  if (!server.ok()) {
    spdlog::error("Cannot serve on {}:{}: {}", args.host, args.port, server.error().message);
    return 1;
  }
  spdlog::info("Serving on http://{}:{}", args.host, (*server)->port());
  if (!args.skip_server_warmup) {
    if (auto st = run_warmup(**app, std::chrono::seconds(300)); !st.ok()) {
      spdlog::error("Warm-up failed: {}", st.error().message);
      (*server)->stop(std::chrono::milliseconds(0));
      return 1;
    }
  }
  stop_signals.serve();  // before /health says ready: a client's requests are never cut by _Exit
  (*app)->ready.store(true);
  spdlog::info("The server is fired up and ready to roll!");

  int sig = stop_signals.wait();
  spdlog::info("Received {}, shutting down gracefully", sig == SIGINT ? "SIGINT" : "SIGTERM");
  (*app)->ready.store(false);
  // The listener closes at once; running requests get --graceful-shutdown-timeout to finish. Those
  // still running then are aborted, so that each stream ends with finish_reason abort and [DONE]
  // (and a plain request with its abort answer) within kAbortWindow, rather than being cut.
  constexpr auto kAbortWindow = std::chrono::seconds(5);
  App& a = **app;
  auto abort_in_flight = [&a] {
    auto rids = a.inflight.snapshot();
    spdlog::warn("Aborting {} request(s) still running after --graceful-shutdown-timeout {}s", rids.size(),
                 a.args.graceful_shutdown_timeout);
    for (const auto& rid : rids) a.scheduler->abort(rid);
  };
  bool clean = (*server)->stop(std::chrono::milliseconds(int64_t(a.args.graceful_shutdown_timeout * 1000)),
                               abort_in_flight, kAbortWindow);
  if (!clean) spdlog::warn("Some requests did not finish within --graceful-shutdown-timeout");
  // SGLang-JAX writes its crash dump when a SIGTERM drain ends too (the requests of the last minutes).
  write_crash_dump(*a.crash_dump, nlohmann::ordered_json::parse(server_args_to_json(a.args)), "SIGTERM");
  (*app)->scheduler->shutdown();
  server->reset();
  spdlog::info("Server stopped");
  return 0;
}
