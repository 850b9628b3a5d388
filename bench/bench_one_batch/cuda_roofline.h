// The GPU's limits, measured in bench_one_batch's own run for --device cuda: device-to-device copy
// bandwidth (bytes read + written per second: the HBM traffic a decode step is bounded by) and the
// throughput of a large bf16 GEMM through the same cuBLAS path the engine uses (prefill's bound).
#pragma once

#include <optional>

namespace sgl::bench {

struct CudaRoofline {
  double copy_bandwidth = 0;  // bytes/s, read + written
  double gemm_flops = 0;      // FLOP/s of an 8192³ bf16 GEMM with fp32 accumulation
};

// Empty when this binary has no CUDA backend or no device is visible.
std::optional<CudaRoofline> measure_cuda_roofline();

}  // namespace sgl::bench
