// Rendezvous of the nodes of one tensor-parallel deployment, before any collective exists: node 0
// runs the key-value store at --dist-init-addr, every node connects (retrying until
// --dist-timeout), claims its --node-rank and publishes the fingerprint of its launch arguments;
// each node compares every other node's fingerprint with its own, so a mismatch is reported on all
// of them, naming the arguments that differ.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "base/result.h"
#include "engine/dist/tcp_store.h"

namespace sgl::engine::dist {

struct RendezvousConfig {
  int nnodes = 1;
  int node_rank = 0;
  std::string init_addr;  // host:port; empty with nnodes 1: a private store on a free loopback port
  std::chrono::milliseconds timeout{60000};
  // "key=value" lines that must be equal on every node (model, tp size, dtype, ...).
  std::string fingerprint;
};

struct NodeRendezvous {
  std::unique_ptr<TcpStoreServer> server;  // node 0 only; must outlive every rank's mesh setup
  HostPort store_addr;                     // where the ranks of this node connect
  std::string local_ip;                    // the address other nodes reach this node on
};

Result<NodeRendezvous> rendezvous(const RendezvousConfig& config);

// "a=1\nb=2" vs "a=1\nb=3" → "b (2 here, 3 on node 1)"; empty when equal.
std::string fingerprint_difference(const std::string& mine, const std::string& theirs, int their_node);

}  // namespace sgl::engine::dist
