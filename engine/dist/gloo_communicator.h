// Communicator over Gloo's TCP transport: CPU ranks on one machine (loopback) and across nodes.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "base/result.h"
#include "engine/dist/communicator.h"
#include "engine/dist/tcp_store.h"

namespace sgl::engine::dist {

struct GlooGroupOptions {
  std::string prefix = "tp";  // store namespace of this group (several groups may share a store)
  int rank = 0;
  int size = 1;
  std::string hostname;  // the address peers reach this rank on (loopback for one machine)
  std::chrono::milliseconds timeout{60000};
};

// Connects the full mesh of `size` ranks through `store`; every rank calls it with its own rank.
Result<std::unique_ptr<Communicator>> create_gloo_communicator(gloo::rendezvous::Store& store,
                                                               const GlooGroupOptions& options);

}  // namespace sgl::engine::dist
