// bench_http: throughput of the HTTP layer alone. An in-process HttpServer with handlers that cost
// nothing (a fixed JSON answer; a stream of fixed OpenAI-chunk-sized events) is driven by
// AsyncHttpClient coroutines on their own io threads over loopback TCP.
//   phase 1: --connections keep-alive clients doing GET /ping back to back → requests/s
//   phase 2: --streams concurrent SSE streams of --events-per-stream events → events/s
// With --server-threads 1 the server runs on one reactor thread, so events/s is per reactor core
// (the client shares the machine, so this is a lower bound).
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "net/http_client.h"
#include "net/http_server.h"

namespace asio = boost::asio;
using namespace sgl::net;
using Clock = std::chrono::steady_clock;

namespace {

// About the size of one OpenAI chat.completion.chunk carrying one token.
const std::string kChunk =
    R"({"id":"chatcmpl-0123456789abcdef","object":"chat.completion.chunk","created":1700000000,)"
    R"("model":"tiny","choices":[{"index":0,"delta":{"content":" token"},"finish_reason":null}]})";

Router bench_router(int events_per_stream) {
  Router router;
  router.get("/ping", [](Exchange&) -> asio::awaitable<Response> {
    co_return Response::json(200, R"({"status":"ok"})");
  });
  router.get("/stream", [events_per_stream](Exchange& ex) -> asio::awaitable<Response> {
    for (int i = 0; i < events_per_stream; ++i) {
      if (!(co_await ex.write_event(kChunk)).ok()) co_return Response{};
    }
    (void)co_await ex.finish();
    co_return Response{};
  });
  return router;
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1e-6 * (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

// CPU seconds used so far by the threads of process `pid` ("self" or a number) whose name is
// `name` (empty: every thread). The server names its io threads "sgl-http-io".
double thread_cpu_seconds(const std::string& pid, const std::string& name) {
  double total = 0;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + pid + "/task", ec)) {
    std::ifstream comm(task.path() / "comm");
    std::string comm_name;
    std::getline(comm, comm_name);
    if (!name.empty() && comm_name != name) continue;
    std::ifstream stat(task.path() / "stat");
    std::string line;
    std::getline(stat, line);
    if (line.empty()) continue;  // the thread just exited
    // Fields after the ")" closing the command name: state is field 3; utime 14, stime 15.
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    std::string field;
    double utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::stod(field);
      if (i == 15) stime = std::stod(field);
    }
    total += (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  return total;
}

// Where the server runs: in this process (zero-cost handlers) or a real sglcpp-server.
struct Target {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string pid = "self";  // whose io threads' CPU time is measured
};

struct PhaseResult {
  long long count = 0;
  long long errors = 0;
  double seconds = 0;
  double cpu = 0;
  double server_cpu = 0;          // the server's io threads
  double server_process_cpu = 0;  // the whole server process (scheduler and model included)
};

// Runs `clients` coroutines on `client_threads` threads for `duration`; each calls
// `one(client, count, stop)` repeatedly, which adds completed units to `count` as they happen
// and returns false on an error.
template <class OneFn>
PhaseResult run_phase(const Target& target, int clients, int client_threads, double duration, OneFn one) {
  asio::io_context ioc(client_threads);
  std::atomic<long long> count{0}, errors{0};
  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<AsyncHttpClient>> pool;
  for (int i = 0; i < clients; ++i) {
    auto strand = asio::make_strand(ioc);
    pool.push_back(std::make_unique<AsyncHttpClient>(strand, target.host, target.port));
    asio::co_spawn(
        strand,
        [&, c = pool.back().get()]() -> asio::awaitable<void> {
          while (!stop) {
            if (!co_await one(*c, count, stop) && !stop) ++errors;
          }
        },
        asio::detached);
  }
  double cpu0 = cpu_seconds();
  double server_cpu0 = thread_cpu_seconds(target.pid, "sgl-http-io");
  double process_cpu0 = thread_cpu_seconds(target.pid, "");
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < client_threads; ++t) threads.emplace_back([&] { ioc.run(); });
  std::this_thread::sleep_for(std::chrono::duration<double>(duration));
  long long at_end = count.load();
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  double cpu = cpu_seconds() - cpu0;
  double server_cpu = thread_cpu_seconds(target.pid, "sgl-http-io") - server_cpu0;
  double process_cpu = thread_cpu_seconds(target.pid, "") - process_cpu0;
  stop = true;
  for (auto& t : threads) t.join();
  return {at_end, errors.load(), secs, cpu, server_cpu, process_cpu};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "HTTP throughput: requests/s and SSE events/s, in-process (zero-cost handlers) or through a "
      "running sglcpp-server (--base-url)"};
  int server_threads = 1, client_threads = 1, connections = 64, streams = 256, events_per_stream = 200;
  double seconds = 3;
  std::string base_url, server_pid;
  app.add_option("--server-threads", server_threads, "in-process server io threads (reactor cores)");
  app.add_option("--client-threads", client_threads, "client io threads");
  app.add_option("--connections", connections, "keep-alive clients in the requests/s phase");
  app.add_option("--streams", streams, "concurrent SSE streams in the events/s phase");
  app.add_option("--events-per-stream", events_per_stream,
                 "events per SSE response (through a server: max_new_tokens per /generate stream)");
  app.add_option("--seconds", seconds, "duration of each phase");
  app.add_option("--base-url", base_url,
                 "drive a running sglcpp-server instead (GET /health, streaming POST /generate)");
  app.add_option("--server-pid", server_pid, "that server's pid, for its CPU time (default: none)");
  CLI11_PARSE(app, argc, argv);

  Target target;
  std::unique_ptr<HttpServer> server;
  const bool external = !base_url.empty();
  if (external) {
    auto url = parse_base_url(base_url);
    if (!url.ok()) {
      std::fprintf(stderr, "--base-url: %s\n", url.error().message.c_str());
      return 1;
    }
    target.host = url->host;
    target.port = url->port;
    target.pid = server_pid.empty() ? "none" : server_pid;
    std::printf("bench_http: server %s (pid %s), client threads %d, hardware threads %u\n", base_url.c_str(),
                target.pid.c_str(), client_threads, std::thread::hardware_concurrency());
  } else {
    ServerOptions opt;
    opt.host = "127.0.0.1";
    opt.port = 0;
    opt.threads = server_threads;
    auto started = HttpServer::start(opt, bench_router(events_per_stream));
    if (!started.ok()) {
      std::fprintf(stderr, "server: %s\n", started.error().message.c_str());
      return 1;
    }
    server = std::move(started).value();
    target.port = server->port();
    std::printf("bench_http: in-process server threads %d, client threads %d, hardware threads %u\n",
                server_threads, client_threads, std::thread::hardware_concurrency());
  }

  const std::string ping = external ? "/health" : "/ping";
  auto req = run_phase(target, connections, client_threads, seconds,
                       [&ping](AsyncHttpClient& c, std::atomic<long long>& count,
                               std::atomic<bool>&) -> asio::awaitable<bool> {
                         auto r = co_await c.request("GET", ping);
                         bool ok = r.ok() && r->status == 200;
                         if (ok) ++count;
                         co_return ok;
                       });
  std::printf("wall-clock rates (client and server share this machine):\n");
  std::printf(
      "requests : %d keep-alive connections  %10.0f req/s     (GET %s: %lld requests, %lld errors, %.1f s, "
      "client CPU %.2f cores)\n",
      connections, req.count / req.seconds, ping.c_str(), req.count, req.errors, req.seconds,
      req.cpu / req.seconds);

  // Through a server every stream is a real request: a short prompt of in-vocabulary ids, then
  // events_per_stream tokens (ignore_eos), one SSE event each at the default --stream-interval.
  const std::string method = external ? "POST" : "GET";
  const std::string path = external ? "/generate" : "/stream";
  const std::string body =
      external
          ? R"({"input_ids":[11,12,13,14,15,16,17,18],"stream":true,"sampling_params":{"max_new_tokens":)" +
                std::to_string(events_per_stream) + R"(,"ignore_eos":true}})"
          : std::string();
  auto sse = run_phase(target, streams, client_threads, seconds,
                       [&](AsyncHttpClient& c, std::atomic<long long>& count,
                           std::atomic<bool>& stop) -> asio::awaitable<bool> {
                         // At the end of the phase the client hangs up mid-stream.
                         auto r = co_await c.stream(method, path, body, [&](std::string_view) {
                           count.fetch_add(1, std::memory_order_relaxed);
                           return !stop.load(std::memory_order_relaxed);
                         });
                         co_return r.ok() && (r->saw_done || stop);
                       });
  double eps = sse.count / sse.seconds;
  std::printf(
      "sse      : %d concurrent streams      %10.0f events/s  (%s %s: %lld events, %lld errors, %.1f s, "
      "client CPU %.2f cores)\n",
      streams, eps, method.c_str(), path.c_str(), sse.count, sse.errors, sse.seconds, sse.cpu / sse.seconds);
  if (target.pid != "none") {
    std::printf(
        "per server CPU-second (server io threads' own CPU time):\n"
        "  requests: %10.0f req/s per core    (server io threads used %.2f cores)\n"
        "  sse     : %10.0f events/s per core (server io threads used %.2f cores; goal >= 100000)\n",
        req.count / std::max(req.server_cpu, 1e-9), req.server_cpu / req.seconds,
        sse.count / std::max(sse.server_cpu, 1e-9), sse.server_cpu / sse.seconds);
    if (external)
      std::printf("  whole server process during sse: %.2f cores (%.0f events per process CPU-second)\n",
                  sse.server_process_cpu / sse.seconds, sse.count / std::max(sse.server_process_cpu, 1e-9));
  }
  if (server) server->stop(std::chrono::milliseconds(2000));
  return 0;
}
