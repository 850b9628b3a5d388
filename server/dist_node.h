// Multi-rank serving (--tp-size > 1, --nnodes > 1): the launch flags as the engine's parallel
// config, the process of a node other than 0 (no HTTP: it serves node 0's steps), and node 0's
// watch over the group: when a rank dies or hangs, in-flight requests fail (their steps fail),
// /health answers 503, and the process exits with status 1 after a short grace — never a hang.
#pragma once

#include <memory>
#include <thread>

#include "engine/engine_config.h"
#include "server/app.h"
#include "server/args.h"

namespace sgl::server {

// The engine settings of the launch flags: node 0 and every follower derive them the same way
// (the rendezvous compares them across nodes).
engine::EngineConfig engine_config_from_args(const ServerArgs& args);

// The whole life of a node with --node-rank > 0; returns the process exit status.
int run_dist_follower(const ServerArgs& args);

// Node 0: polls the group's health; on failure turns /health 503 and exits the process (status 1)
// `grace` later, after the failed requests' errors went out.
class DistMonitor {
 public:
  DistMonitor(App& app, std::chrono::milliseconds grace);
  ~DistMonitor();
  DistMonitor(const DistMonitor&) = delete;
  DistMonitor& operator=(const DistMonitor&) = delete;

 private:
  void run();
  App& app_;
  std::chrono::milliseconds grace_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace sgl::server
