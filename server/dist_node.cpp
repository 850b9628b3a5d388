#include "server/dist_node.h"

#include <spdlog/spdlog.h>

#include <cstdlib>

#include "engine/dist/tp_runner.h"

namespace sgl::server {

engine::EngineConfig engine_config_from_args(const ServerArgs& a) {
  engine::EngineConfig ec;
  ec.model_path = a.model_path;
  ec.load_format = a.load_format;
  ec.dtype = a.dtype == "half" ? "float16" : a.dtype == "float" ? "float32" : a.dtype;
  ec.device = a.device;
  ec.random_seed = uint64_t(a.random_seed);
  ec.num_threads = a.num_threads;
  ec.context_length = a.context_length.value_or(0);
  ec.model_layer_nums = a.model_layer_nums.value_or(0);
  ec.tp_size = a.tp_size;
  ec.ep_size = a.ep_size;
  ec.nnodes = a.nnodes;
  ec.node_rank = a.node_rank;
  ec.dist_init_addr = a.dist_init_addr;
  ec.dist_timeout_s = a.dist_timeout;
  ec.cuda_graph_max_bs = a.cuda_graph_max_bs;
  ec.disable_cuda_graph = a.disable_cuda_graph;
  ec.quantization = a.quantization;
  ec.quantization_config_path = a.quantization_config_path;
  ec.json_model_override_args = a.json_model_override_args;
  ec.enable_nan_detection = a.enable_nan_detection;
  ec.kv_cache_dtype = a.kv_cache_dtype;
  ec.quantization_param_path = a.quantization_param_path;
  return ec;
}

int run_dist_follower(const ServerArgs& args) {
  const engine::EngineConfig ec = engine_config_from_args(args);
  spdlog::info("Node {} of {}: joining the rendezvous at {} (ranks {}..{} of {}); no HTTP on this node",
               args.node_rank, args.nnodes, args.dist_init_addr,
               args.node_rank * (args.tp_size / args.nnodes),
               (args.node_rank + 1) * (args.tp_size / args.nnodes) - 1, args.tp_size);
  Status st = engine::dist::run_follower_node(ec);
  if (!st.ok()) {
    spdlog::error("Node {} stopped: {}", args.node_rank, st.error().message);
    return 1;
  }
  spdlog::info("Node {}: node 0 shut the group down; exiting", args.node_rank);
  return 0;
}

DistMonitor::DistMonitor(App& app, std::chrono::milliseconds grace) : app_(app), grace_(grace) {
  thread_ = std::thread([this] { run(); });
}

DistMonitor::~DistMonitor() {
  stop_.store(true);
  thread_.join();
}

void DistMonitor::run() {
  while (!stop_.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const std::string failure = engine::dist::tp_group_failure(app_.runner());
    if (failure.empty()) continue;
    app_.ready.store(false);  // /health → 503
    spdlog::error("Tensor-parallel group failed: {}", failure);
    spdlog::error("Failing in-flight requests; exiting in {} ms (restart every node to recover)",
                  grace_.count());
    std::this_thread::sleep_for(grace_);
    spdlog::default_logger()->flush();
    // Destructors would wait on ranks that are gone; the error is logged, leave now.
    std::_Exit(1);
  }
}

}  // namespace sgl::server
