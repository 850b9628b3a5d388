#include "engine/cpu/kv_commit.h"

#include <sys/mman.h>
#include <tbb/parallel_for.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14; older glibc headers lack the name
#endif

namespace sgl::engine::cpu {
namespace {

constexpr int64_t kMiB = int64_t(1) << 20;
// Committed between two looks at the memory left: small enough that a race with another process
// overshoots the reserve by little, large enough that reading /proc costs nothing beside it.
constexpr int64_t kCommitStepBytes = 256 * kMiB;

}  // namespace

int64_t host_reserve_bytes(const MemorySnapshot& m) {
  return std::clamp<int64_t>(m.total / 32, 256 * kMiB, 1024 * kMiB);
}

int64_t host_available_bytes(const MemorySnapshot& m) {
  return std::max<int64_t>(0, m.usable - host_reserve_bytes(m));
}

void commit_pages(void* data, size_t bytes) {
  if (bytes == 0) return;
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<uintptr_t>(data);
  const uintptr_t end = begin + bytes;
  // madvise takes whole pages: the interior in one call, the partial pages at the ends by a write.
  const uintptr_t first = (begin + page - 1) / page * page, last = end / page * page;
  const bool populated =
      first < last && madvise(reinterpret_cast<void*>(first), last - first, MADV_POPULATE_WRITE) == 0;
  // Reading a byte and writing it back faults its page in for writing and leaves calloc's zeros as
  // they were; only bytes of the range itself are touched (its end pages may hold other blocks).
  auto touch = [](uintptr_t p) {
    auto* byte = reinterpret_cast<volatile unsigned char*>(p);
    *byte = *byte;
  };
  if (populated) {
    if (begin < first) touch(begin);
    if (last < end) touch(last);
    return;
  }
  // EINVAL: a kernel before 5.14. One write per page.
  for (uintptr_t p = begin; p < end; p = (p / page + 1) * page) touch(p);
}

KvCommit commit_kv_slots(std::vector<Tensor>& k, std::vector<Tensor>& v, int64_t num_slots, int page_size,
                         const std::function<MemorySnapshot()>& probe) {
  std::vector<Tensor*> tensors;
  int64_t slot_bytes = 0;  // one slot across every layer's K and V
  for (auto* list : {&k, &v})
    for (Tensor& t : *list) {
      tensors.push_back(&t);
      slot_bytes += num_slots > 0 ? t.bytes() / num_slots : 0;
    }
  KvCommit done;
  if (slot_bytes == 0 || num_slots <= 0) return done;
  const int64_t page = std::max(1, page_size);
  const int64_t step = std::max<int64_t>(page, kCommitStepBytes / slot_bytes / page * page);
  while (done.slots < num_slots) {
    const int64_t n = std::min(step, num_slots - done.slots);
    const MemorySnapshot m = probe();
    // Unknown memory (no /proc): commit as planned; the plan then came from --max-total-tokens.
    if (m.usable > 0 && m.usable - n * slot_bytes < host_reserve_bytes(m)) break;
    // Page faults of different tensors proceed in parallel on kernels with per-VMA locks.
    tbb::parallel_for(size_t(0), tensors.size(), [&](size_t i) {
      Tensor& t = *tensors[i];
      const int64_t row = t.bytes() / num_slots;
      commit_pages(static_cast<std::byte*>(t.data()) + done.slots * row, size_t(n * row));
    });
    done.slots += n;
  }
  done.slots = done.slots / page * page;
  done.bytes = done.slots * slot_bytes;
  return done;
}

}  // namespace sgl::engine::cpu
