#include "engine/dist/gloo_communicator.h"

#include <fmt/format.h>
#include <gloo/allgather.h>
#include <gloo/allgatherv.h>
#include <gloo/allreduce.h>
#include <gloo/alltoall.h>
#include <gloo/barrier.h>
#include <gloo/broadcast.h>
#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/prefix_store.h>
#include <gloo/transport/tcp/device.h>

#include <mutex>
#include <numeric>
#include <vector>

namespace sgl::engine::dist {
namespace {

using Clock = std::chrono::steady_clock;

class GlooCommunicator final : public TrackedCommunicator {
 public:
  GlooCommunicator(std::shared_ptr<gloo::rendezvous::Context> ctx, std::chrono::milliseconds timeout)
      : ctx_(std::move(ctx)), timeout_(timeout) {}

  int rank() const override { return ctx_->rank; }
  int size() const override { return ctx_->size; }
  std::chrono::milliseconds timeout() const override { return timeout_; }

  Status all_reduce_sum(float* data, size_t n) override {
    return run("all_reduce", n * sizeof(float), [&] {
      gloo::AllreduceOptions o(ctx_);
      o.setOutput(data, n);
      o.setReduceFunction(gloo::AllreduceOptions::Func(
          static_cast<void (*)(void*, const void*, const void*, size_t)>(&gloo::sum<float>)));
      o.setTimeout(timeout_);
      gloo::allreduce(o);
    });
  }

  Status all_gather(const float* in, size_t n, float* out) override {
    return run("all_gather", n * sizeof(float), [&] {
      gloo::AllgatherOptions o(ctx_);
      o.setInput(const_cast<float*>(in), n);
      o.setOutput(out, n * static_cast<size_t>(size()));
      o.setTimeout(timeout_);
      gloo::allgather(o);
    });
  }

  Status all_gatherv(const float* in, std::span<const size_t> counts, float* out) override {
    if (counts.size() != static_cast<size_t>(size()))
      return invalid_argument("all_gatherv: one count per rank");
    return run("all_gatherv", counts[rank()] * sizeof(float), [&] {
      gloo::AllgathervOptions o(ctx_);
      o.setInput(const_cast<float*>(in), counts[rank()]);
      o.setOutput(out, std::vector<size_t>(counts.begin(), counts.end()));
      o.setTimeout(timeout_);
      gloo::allgatherv(o);
    });
  }

  Status reduce_scatter_sum(const float* data, std::span<const size_t> counts, float* out) override {
    if (counts.size() != static_cast<size_t>(size()))
      return invalid_argument("reduce_scatter: one count per rank");
    // Gloo's new-style API has no reduce-scatter; an all-reduce then keeping our part moves at most
    // twice the bytes and gives every rank the same sums (what matters for identical outputs).
    const size_t total = std::accumulate(counts.begin(), counts.end(), size_t{0});
    std::vector<float> buf(data, data + total);
    SGL_TRY(all_reduce_sum(buf.data(), total));
    const size_t off = std::accumulate(counts.begin(), counts.begin() + rank(), size_t{0});
    std::copy(buf.begin() + static_cast<std::ptrdiff_t>(off),
              buf.begin() + static_cast<std::ptrdiff_t>(off + counts[rank()]), out);
    return {};
  }

  Status broadcast(void* data, size_t bytes, int root) override {
    return run("broadcast", bytes, [&] {
      gloo::BroadcastOptions o(ctx_);
      o.setOutput(static_cast<uint8_t*>(data), bytes);
      o.setRoot(root);
      o.setTimeout(timeout_);
      gloo::broadcast(o);
    });
  }

  Status all_to_all(const float* in, size_t n, float* out) override {
    const size_t total = n * static_cast<size_t>(size());
    return run("all_to_all", total * sizeof(float), [&] {
      gloo::AlltoallOptions o(ctx_);
      o.setInput(const_cast<float*>(in), total);
      o.setOutput(out, total);
      o.setTimeout(timeout_);
      gloo::alltoall(o);
    });
  }

  Status barrier() override {
    return run("barrier", 0, [&] {
      gloo::BarrierOptions o(ctx_);
      o.setTimeout(timeout_);
      gloo::barrier(o);
    });
  }

 private:
  template <class F>
  Status run(const char* what, size_t bytes, F&& op) {
    SGL_TRY(healthy());
    const auto t0 = Clock::now();
    std::string err;
    try {
      op();
    } catch (const std::exception& e) {
      err = e.what();
    }
    if (!err.empty()) return failed("", what, err);
    succeeded(bytes, t0);
    return {};
  }

  std::shared_ptr<gloo::rendezvous::Context> ctx_;
  std::chrono::milliseconds timeout_;
};

}  // namespace

Result<std::unique_ptr<Communicator>> create_gloo_communicator(gloo::rendezvous::Store& store,
                                                               const GlooGroupOptions& opt) {
  if (opt.size < 1 || opt.rank < 0 || opt.rank >= opt.size)
    return invalid_argument(fmt::format("rank {} outside a group of {}", opt.rank, opt.size));
  try {
    gloo::transport::tcp::attr attr;
    attr.hostname = opt.hostname.empty() ? "127.0.0.1" : opt.hostname;
    auto device = gloo::transport::tcp::CreateDevice(attr);
    auto ctx = std::make_shared<gloo::rendezvous::Context>(opt.rank, opt.size);
    ctx->setTimeout(opt.timeout);
    gloo::rendezvous::PrefixStore prefixed(opt.prefix, store);
    ctx->connectFullMesh(prefixed, device);
    return std::unique_ptr<Communicator>(std::make_unique<GlooCommunicator>(std::move(ctx), opt.timeout));
  } catch (const std::exception& e) {
    return Error{ErrorCode::kUnavailable,
                 fmt::format("rank {} of {}: connecting the Gloo mesh ({}) failed: {}", opt.rank, opt.size,
                             opt.prefix, e.what())};
  }
}

}  // namespace sgl::engine::dist
