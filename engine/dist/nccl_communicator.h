// Communicator over NCCL between GPUs (built only when the CUDA toolkit and NCCL are found:
// SGL_HAVE_NCCL). Same interface and semantics as the Gloo one, with every pointer in device memory;
// the unique id travels through the rendezvous store. NCCL has no timeouts of its own, so the
// communicator is non-blocking and each call polls its stream and the communicator's async error
// until the group's timeout, then aborts the communicator (every later call fails at once).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "base/result.h"
#include "engine/dist/communicator.h"
#include "engine/dist/tcp_store.h"

namespace sgl::engine::dist {

struct NcclGroupOptions {
  std::string prefix = "nccl";
  int rank = 0;
  int size = 1;
  int device = 0;          // CUDA device of this rank
  void* stream = nullptr;  // cudaStream_t the collectives run on (null: the legacy default stream)
  std::chrono::milliseconds timeout{60000};
};

Result<std::unique_ptr<Communicator>> create_nccl_communicator(gloo::rendezvous::Store& store,
                                                               const NcclGroupOptions& options);

}  // namespace sgl::engine::dist
