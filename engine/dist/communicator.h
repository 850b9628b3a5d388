// The collectives tensor and expert parallelism need, behind one interface: Gloo between CPU ranks
// and across nodes (gloo_communicator.cpp), NCCL between GPUs (nccl_communicator.cpp, built only
// with CUDA + NCCL). Models call these and never a library directly, so the multi-rank logic tested
// over Gloo on loopback is the same that runs over NCCL.
//
// Every call is collective: all ranks of the group call it in the same order with matching sizes.
// A rank that died or stopped answering surfaces as an error Status (kUnavailable) within the
// group's timeout instead of a hang; after the first failure the group is broken and every later
// call fails at once (a half-finished collective leaves the peers in an unknown state).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>

#include "base/result.h"

namespace sgl::engine::dist {

// Time and bytes spent in collectives, for the benchmark's "collective time per step".
struct CollectiveStats {
  int64_t calls = 0;
  int64_t bytes = 0;  // this rank's payload (input size) summed over calls
  double seconds = 0;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;

  // data[n] ← Σ over ranks of data[n] (fp32). Every rank ends with bitwise the same values.
  virtual Status all_reduce_sum(float* data, size_t n) = 0;
  // out[size · n] ← the concatenation of every rank's in[n], in rank order.
  virtual Status all_gather(const float* in, size_t n, float* out) = 0;
  // out ← the concatenation of every rank's in[counts[rank]], in rank order (counts: one per rank).
  virtual Status all_gatherv(const float* in, std::span<const size_t> counts, float* out) = 0;
  // data[Σ counts] summed over ranks; this rank keeps its part (counts[rank] values, at the offset
  // of the counts before it) in out.
  virtual Status reduce_scatter_sum(const float* data, std::span<const size_t> counts, float* out) = 0;
  // bytes from `root` to every rank (in place).
  virtual Status broadcast(void* data, size_t bytes, int root) = 0;
  // in[size · n]: block r goes to rank r; out[size · n]: block r came from rank r.
  virtual Status all_to_all(const float* in, size_t n, float* out) = 0;
  virtual Status barrier() = 0;

  // The per-call timeout; a collective not finished by then fails the group.
  virtual std::chrono::milliseconds timeout() const = 0;
  // Empty while healthy; the first failure's message afterwards.
  virtual std::string failure() const = 0;

  virtual CollectiveStats stats() const = 0;
  virtual void reset_stats() = 0;
};

// The failure latch and the stats every backend keeps the same way: a backend's collective calls
// healthy() first, then failed() or succeeded() once the library call has finished.
class TrackedCommunicator : public Communicator {
 public:
  std::string failure() const override;
  CollectiveStats stats() const override;
  void reset_stats() override;

 protected:
  using Clock = std::chrono::steady_clock;
  // kUnavailable with the first failure's message once the group is broken.
  Status healthy() const;
  // Breaks the group: `library` ("", "NCCL ") and `what` name the collective.
  Error failed(const char* library, const char* what, const std::string& reason);
  void succeeded(size_t bytes, Clock::time_point started);
  bool broken() const;

 private:
  mutable std::mutex mu_;
  std::string failure_;
  CollectiveStats stats_;
};

}  // namespace sgl::engine::dist
