// The CPU KV pool's memory, held from the start. The pool is sized from the memory this process may
// really take (MemAvailable and the memory cgroup's room, less a reserve left to the rest of the
// machine) and its pages are faulted in when it is created, as the CUDA backend's pool is device
// memory allocated up front. So the size the start-up log prints is resident memory, and a pool
// that does not fit shows at start (smaller, and said so) instead of the kernel's OOM killer ending
// the server hours later, when traffic first fills the pool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "base/system_memory.h"
#include "engine/tensor.h"

namespace sgl::engine::cpu {

// Memory left to the system whatever the flags ask: 1/32 of the machine (or of the cgroup's limit),
// within [256 MiB, 1 GiB]: the page cache of the weights, the tokenizer, the HTTP side, the shell.
int64_t host_reserve_bytes(const MemorySnapshot& m);
// What the KV pool and activations may plan on: usable memory less the reserve (0 when below it).
int64_t host_available_bytes(const MemorySnapshot& m);

// Faults in the pages of [data, data + bytes) for writing without changing their contents
// (MADV_POPULATE_WRITE; a write of each page's first byte on kernels before 5.14).
void commit_pages(void* data, size_t bytes);

struct KvCommit {
  int64_t slots = 0;  // committed slots, a multiple of the page size
  int64_t bytes = 0;  // resident bytes they hold, every layer's K and V
};
// Commits `num_slots` slots of the per-layer K and V tensors ([num_slots, ...] each, zeroed by
// calloc), range by range across all layers, and stops early, at a page boundary, when committing
// the next range would leave less than the reserve usable (another process allocating at the same
// moment): the slots past that point stay unmapped and must not be used. `probe` reads memory now.
KvCommit commit_kv_slots(std::vector<Tensor>& k, std::vector<Tensor>& v, int64_t num_slots, int page_size,
                         const std::function<MemorySnapshot()>& probe);

}  // namespace sgl::engine::cpu
