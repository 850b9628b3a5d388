#include "engine/dist/nccl_communicator.h"

#include <cuda_runtime.h>
#include <fmt/format.h>
#include <nccl.h>

#include <mutex>
#include <numeric>
#include <thread>
#include <vector>

namespace sgl::engine::dist {
namespace {

using Clock = std::chrono::steady_clock;

class NcclCommunicator final : public TrackedCommunicator {
 public:
  NcclCommunicator(ncclComm_t comm, int rank, int size, int device, cudaStream_t stream,
                   std::chrono::milliseconds timeout)
      : comm_(comm), rank_(rank), size_(size), device_(device), stream_(stream), timeout_(timeout) {}
  ~NcclCommunicator() override {
    if (comm_ == nullptr) return;
    if (!broken()) {
      ncclCommFinalize(comm_);
      ncclCommDestroy(comm_);
    } else {
      ncclCommAbort(comm_);
    }
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::chrono::milliseconds timeout() const override { return timeout_; }

  Status all_reduce_sum(float* data, size_t n) override {
    return run("all_reduce", n * sizeof(float),
               [&] { return ncclAllReduce(data, data, n, ncclFloat32, ncclSum, comm_, stream_); });
  }
  Status all_gather(const float* in, size_t n, float* out) override {
    return run("all_gather", n * sizeof(float),
               [&] { return ncclAllGather(in, out, n, ncclFloat32, comm_, stream_); });
  }
  Status all_gatherv(const float* in, std::span<const size_t> counts, float* out) override {
    if (counts.size() != static_cast<size_t>(size_))
      return invalid_argument("all_gatherv: one count per rank");
    // NCCL has no all-gatherv: one broadcast per rank inside a group call.
    return run("all_gatherv", counts[rank_] * sizeof(float), [&] {
      ncclResult_t r = ncclGroupStart();
      size_t off = 0;
      for (int k = 0; k < size_ && r == ncclSuccess; ++k) {
        r = ncclBroadcast(k == rank_ ? in : out + off, out + off, counts[k], ncclFloat32, k, comm_, stream_);
        off += counts[k];
      }
      const ncclResult_t e = ncclGroupEnd();
      return r != ncclSuccess ? r : e;
    });
  }
  Status reduce_scatter_sum(const float* data, std::span<const size_t> counts, float* out) override {
    if (counts.size() != static_cast<size_t>(size_))
      return invalid_argument("reduce_scatter: one count per rank");
    // Uneven parts: one reduce per rank (to that rank) in a group call.
    return run("reduce_scatter", std::accumulate(counts.begin(), counts.end(), size_t{0}) * sizeof(float),
               [&] {
                 ncclResult_t r = ncclGroupStart();
                 size_t off = 0;
                 for (int k = 0; k < size_ && r == ncclSuccess; ++k) {
                   r = ncclReduce(data + off, k == rank_ ? out : nullptr, counts[k], ncclFloat32, ncclSum, k,
                                  comm_, stream_);
                   off += counts[k];
                 }
                 const ncclResult_t e = ncclGroupEnd();
                 return r != ncclSuccess ? r : e;
               });
  }
  Status broadcast(void* data, size_t bytes, int root) override {
    return run("broadcast", bytes,
               [&] { return ncclBroadcast(data, data, bytes, ncclUint8, root, comm_, stream_); });
  }
  Status all_to_all(const float* in, size_t n, float* out) override {
    return run("all_to_all", n * size_ * sizeof(float), [&] {
      ncclResult_t r = ncclGroupStart();
      for (int k = 0; k < size_ && r == ncclSuccess; ++k) {
        r = ncclSend(in + k * n, n, ncclFloat32, k, comm_, stream_);
        if (r == ncclSuccess) r = ncclRecv(out + k * n, n, ncclFloat32, k, comm_, stream_);
      }
      const ncclResult_t e = ncclGroupEnd();
      return r != ncclSuccess ? r : e;
    });
  }
  Status barrier() override {
    // A one-element all-reduce on a scratch device value is NCCL's barrier.
    if (scratch_ == nullptr && cudaMalloc(&scratch_, sizeof(float)) != cudaSuccess)
      return internal_error("nccl barrier: cudaMalloc failed");
    return all_reduce_sum(static_cast<float*>(scratch_), 1);
  }

 private:
  template <class F>
  Status run(const char* what, size_t bytes, F&& enqueue) {
    SGL_TRY(healthy());
    cudaSetDevice(device_);
    const auto t0 = Clock::now();
    const auto deadline = t0 + timeout_;
    ncclResult_t r = enqueue();
    std::string err;
    // Non-blocking communicator: the call may return ncclInProgress; then the stream finishes it.
    for (;;) {
      ncclResult_t async = ncclSuccess;
      ncclCommGetAsyncError(comm_, &async);
      if (r != ncclSuccess && r != ncclInProgress) {
        err = ncclGetErrorString(r);
        break;
      }
      if (async != ncclSuccess && async != ncclInProgress) {
        err = ncclGetErrorString(async);
        break;
      }
      const cudaError_t q = cudaStreamQuery(stream_);
      if (q == cudaSuccess && async == ncclSuccess) break;
      if (q != cudaSuccess && q != cudaErrorNotReady) {
        err = cudaGetErrorString(q);
        break;
      }
      if (Clock::now() > deadline) {
        err = "timed out";
        break;
      }
      r = ncclSuccess;
      std::this_thread::yield();
    }
    if (!err.empty()) {
      ncclCommAbort(comm_);
      comm_ = nullptr;
      return failed("NCCL ", what, err);
    }
    succeeded(bytes, t0);
    return {};
  }

  ncclComm_t comm_;
  int rank_, size_, device_;
  cudaStream_t stream_;
  std::chrono::milliseconds timeout_;
  void* scratch_ = nullptr;
};

}  // namespace

Result<std::unique_ptr<Communicator>> create_nccl_communicator(gloo::rendezvous::Store& store,
                                                               const NcclGroupOptions& o) {
  if (o.size < 1 || o.rank < 0 || o.rank >= o.size)
    return invalid_argument(fmt::format("rank {} outside a group of {}", o.rank, o.size));
  if (cudaSetDevice(o.device) != cudaSuccess)
    return Error{ErrorCode::kUnavailable,
                 fmt::format("rank {}: CUDA device {} is not available", o.rank, o.device)};
  ncclUniqueId id{};
  const std::string key = o.prefix + "/nccl_unique_id";
  try {
    if (o.rank == 0) {
      if (ncclGetUniqueId(&id) != ncclSuccess) return internal_error("ncclGetUniqueId failed");
      store.set(key, std::vector<char>(id.internal, id.internal + sizeof id.internal));
    } else {
      store.wait({key}, o.timeout);
      const std::vector<char> v = store.get(key);
      if (v.size() != sizeof id.internal) return corrupt("NCCL unique id of the wrong size in the store");
      std::copy(v.begin(), v.end(), id.internal);
    }
  } catch (const std::exception& e) {
    return Error{ErrorCode::kUnavailable,
                 fmt::format("rank {}: NCCL bootstrap through the store: {}", o.rank, e.what())};
  }
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;  // lets a dead peer surface as a timeout instead of a hang
  ncclComm_t comm = nullptr;
  ncclResult_t r = ncclCommInitRankConfig(&comm, o.size, id, o.rank, &config);
  const auto deadline = Clock::now() + o.timeout;
  while (r == ncclInProgress || (r == ncclSuccess && comm != nullptr)) {
    ncclResult_t state = ncclInProgress;
    ncclCommGetAsyncError(comm, &state);
    if (state == ncclSuccess) break;
    if (state != ncclInProgress || Clock::now() > deadline) {
      ncclCommAbort(comm);
      return Error{ErrorCode::kUnavailable,
                   fmt::format("rank {} of {}: NCCL communicator setup failed or timed out: {}", o.rank,
                               o.size, ncclGetErrorString(state))};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    r = ncclSuccess;
  }
  if (r != ncclSuccess && r != ncclInProgress)
    return Error{ErrorCode::kUnavailable,
                 fmt::format("rank {}: ncclCommInitRankConfig: {}", o.rank, ncclGetErrorString(r))};
  return std::unique_ptr<Communicator>(std::make_unique<NcclCommunicator>(
      comm, o.rank, o.size, o.device, static_cast<cudaStream_t>(o.stream), o.timeout));
}

}  // namespace sgl::engine::dist
