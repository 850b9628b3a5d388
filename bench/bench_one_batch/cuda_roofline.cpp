#include "cuda_roofline.h"

#if SGL_HAVE_CUDA
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "engine/cuda/device.h"
#include "engine/cuda/gemm.h"
#endif

namespace sgl::bench {

#if SGL_HAVE_CUDA
namespace {

using sgl::engine::cuda::DeviceBuffer;

// Best of `reps` timings of `fn` on the default stream, in seconds.
template <class Fn>
double best_seconds(int reps, Fn&& fn) {
  cudaEvent_t a, b;
  cudaEventCreate(&a);
  cudaEventCreate(&b);
  float best = 1e30f;
  for (int i = 0; i < reps; ++i) {
    cudaEventRecord(a);
    fn();
    cudaEventRecord(b);
    cudaEventSynchronize(b);
    float ms = 0;
    cudaEventElapsedTime(&ms, a, b);
    best = std::min(best, ms);
  }
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return best / 1e3;
}

}  // namespace

std::optional<CudaRoofline> measure_cuda_roofline() {
  if (engine::cuda::device_count() == 0) return std::nullopt;
  CudaRoofline r;
  {
    const size_t bytes = size_t{2} << 30;  // far beyond the 50 MB L2
    auto src = DeviceBuffer::alloc(bytes), dst = DeviceBuffer::alloc(bytes);
    if (!src.ok() || !dst.ok()) return std::nullopt;
    cudaMemset(src->as(), 1, bytes);
    auto copy = [&] { cudaMemcpyAsync(dst->as(), src->as(), bytes, cudaMemcpyDeviceToDevice, nullptr); };
    copy();
    r.copy_bandwidth = 2.0 * static_cast<double>(bytes) / best_seconds(5, copy);
  }
  {
    const int64_t n = 8192;
    const size_t bytes = static_cast<size_t>(n * n) * 2;
    auto a = DeviceBuffer::alloc(bytes), b = DeviceBuffer::alloc(bytes), c = DeviceBuffer::alloc(bytes);
    if (!a.ok() || !b.ok() || !c.ok()) return std::nullopt;
    // Random-looking bf16 values (a constant pattern would flatter the tensor cores' power draw).
    std::vector<uint16_t> host(static_cast<size_t>(n * n));
    uint32_t s = 12345;
    for (auto& v : host)
      s = s * 1664525u + 1013904223u,
      v = static_cast<uint16_t>(0x3c00u | ((s >> 16) & 0x7fu) | ((s >> 8) & 0x8000u));
    cudaMemcpy(a->as(), host.data(), bytes, cudaMemcpyHostToDevice);
    cudaMemcpy(b->as(), host.data(), bytes, cudaMemcpyHostToDevice);
    engine::cuda::Gemm gemm;
    if (!gemm.init(nullptr).ok()) return std::nullopt;
    auto run = [&] {
      for (int i = 0; i < 5; ++i)
        (void)gemm.bf16_out(a->as<uint16_t>(), b->as<uint16_t>(), c->as<uint16_t>(), n, n, n);
    };
    run();
    r.gemm_flops = 5.0 * 2.0 * static_cast<double>(n * n * n) / best_seconds(5, run);
  }
  cudaDeviceSynchronize();
  return r;
}
#else
std::optional<CudaRoofline> measure_cuda_roofline() { return std::nullopt; }
#endif

}  // namespace sgl::bench
