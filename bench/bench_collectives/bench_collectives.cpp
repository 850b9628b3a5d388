// Latency and bandwidth of the tensor-parallel collectives between CPU ranks on one machine: rank
// threads, each with a Gloo communicator over loopback TCP (as `--tp-size N` runs them), optionally
// with every other core kept busy so the figure shows what a forward's TBB workers cost the calls.
//   build/bin/bench_collectives --ranks 2 --bytes 2048 65536 4194304 --iters 200
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "engine/dist/gloo_communicator.h"
#include "engine/dist/tcp_store.h"

namespace {
using namespace sgl::engine::dist;
using Clock = std::chrono::steady_clock;

struct Result {
  double median_us = 0, p90_us = 0;
};

// Runs `iters` all-reduces of `bytes` on every rank; rank 0's per-call wall times.
Result run(int ranks, size_t bytes, int iters, bool busy) {
  auto server = TcpStoreServer::start(0);
  if (!server.ok()) throw std::runtime_error(server.error().message);
  const uint16_t port = (*server)->port();
  std::vector<double> times;
  std::atomic<bool> stop{false};
  std::vector<std::thread> spinners;
  if (busy)  // one spinning thread per core, as TBB workers between parallel regions
    for (unsigned i = 0; i < std::thread::hardware_concurrency(); ++i)
      spinners.emplace_back([&] {
        while (!stop.load(std::memory_order_relaxed)) std::this_thread::yield();
      });
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r) {
    threads.emplace_back([&, r] {
      auto store = TcpStore::connect({"127.0.0.1", port}, std::chrono::seconds(10));
      if (!store.ok()) return;
      GlooGroupOptions o;
      o.rank = r;
      o.size = ranks;
      auto comm = create_gloo_communicator(**store, o);
      if (!comm.ok()) return;
      std::vector<float> data(std::max<size_t>(1, bytes / 4), 1.0f);
      for (int w = 0; w < 10; ++w) (void)(*comm)->all_reduce_sum(data.data(), data.size());
      for (int i = 0; i < iters; ++i) {
        const auto t0 = Clock::now();
        if (!(*comm)->all_reduce_sum(data.data(), data.size()).ok()) return;
        if (r == 0) times.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      }
    });
  }
  for (auto& t : threads) t.join();
  stop = true;
  for (auto& t : spinners) t.join();
  if (times.empty()) throw std::runtime_error("the ranks did not connect");
  std::sort(times.begin(), times.end());
  return {times[times.size() / 2], times[times.size() * 9 / 10]};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"All-reduce latency between CPU rank threads over Gloo (loopback TCP)"};
  int ranks = 2, iters = 200;
  std::vector<size_t> sizes = {2048, 65536, 4 << 20};
  bool busy_too = false;
  app.add_option("--ranks", ranks, "ranks (threads)")->capture_default_str();
  app.add_option("--bytes", sizes, "message sizes in bytes (fp32 elements = bytes / 4)");
  app.add_option("--iters", iters, "timed calls per size")->capture_default_str();
  app.add_flag("--busy-too", busy_too, "also measure with a yielding thread on every core");
  CLI11_PARSE(app, argc, argv);
  fmt::print("ranks={} hardware threads={}\n", ranks, std::thread::hardware_concurrency());
  for (bool busy : {false, true}) {
    if (busy && !busy_too) break;
    for (size_t b : sizes) {
      try {
        const Result r = run(ranks, b, iters, busy);
        fmt::print(
            "all_reduce {:>9} bytes{}: median {:8.1f} us  p90 {:8.1f} us  ({:.2f} GB/s algorithm "
            "bandwidth)\n",
            b, busy ? " (cores busy)" : "", r.median_us, r.p90_us, double(b) / (r.median_us * 1e3));
      } catch (const std::exception& e) {
        fmt::print(stderr, "{} bytes: {}\n", b, e.what());
        return 1;
      }
    }
  }
  return 0;
}
