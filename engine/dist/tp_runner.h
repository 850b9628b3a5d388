// Tensor / expert parallelism as SGLang runs it: every node runs the same command; ranks per node
// = tp_size / nnodes (CPU ranks: one thread each, its own model slice, KV slice and Gloo
// connection). Global rank 0 (node 0) is the leader: the scheduler drives it as its ModelRunner,
// and before each forward it broadcasts the step (batch + resolved input ids) to every other rank;
// all ranks run the same forward with their collectives, rank 0 gathers the logits and samples.
//
// Liveness: while idle the leader sends a heartbeat (broadcast + barrier) every second, so a dead
// rank is noticed within a second (its sockets close) and a hung one within --dist-timeout (the
// collective times out); followers that hear nothing from the leader for --dist-timeout stop.
// After a failure every step fails at once with the reason (tp_group_failure), never hangs.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/result.h"
#include "engine/dist/communicator.h"
#include "engine/engine_config.h"
#include "engine/model_runner.h"

namespace sgl::engine::dist {

// Node 0: rendezvous, load this node's ranks, return the leader (rank 0) as the ModelRunner.
Result<std::unique_ptr<ModelRunner>> create_tp_runner(const EngineConfig& cfg);

// Nodes 1..nnodes-1: rendezvous, load this node's ranks and serve the leader's steps until it shuts
// the group down (ok) or the group fails (the reason).
Status run_follower_node(const EngineConfig& cfg);

// The reason the runner's tensor-parallel group failed; empty while healthy or for a runner that
// is not a tensor-parallel leader.
std::string tp_group_failure(const ModelRunner& runner);

// Rank 0's collective counters (benchmarks); nullopt for a runner that is not a leader.
std::optional<CollectiveStats> tp_collective_stats(const ModelRunner& runner);
void reset_tp_collective_stats(ModelRunner& runner);

// The "key=value" lines every node must agree on (checked at rendezvous).
std::string launch_fingerprint(const EngineConfig& cfg);

}  // namespace sgl::engine::dist
