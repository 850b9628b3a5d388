// y[M, N] (fp32) = x[M, K] (bf16) · W[N, K]ᵀ (bf16, HF layout), fp32 accumulation, through cuBLAS.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstdint>

#include "base/result.h"
#include "engine/cuda/device.h"

namespace sgl::engine::cuda {

struct CublasLib;  // engine/cuda/cublas_lib.h: cuBLAS, loaded at run time

class Gemm {
 public:
  Gemm() = default;
  ~Gemm();
  Gemm(const Gemm&) = delete;
  Gemm& operator=(const Gemm&) = delete;

  Status init(cudaStream_t stream);
  // y = x·Wᵀ, or y += x·Wᵀ when `accumulate`.
  Status bf16(const uint16_t* x, const uint16_t* w, float* y, int64_t m, int64_t n, int64_t k,
              bool accumulate = false) const;
  // Same with bf16 output (the roofline GEMM of bench_one_batch).
  Status bf16_out(const uint16_t* x, const uint16_t* w, uint16_t* y, int64_t m, int64_t n, int64_t k) const;
  // Full fp32 (TF32 off): the MoE router, whose top-k choices bf16 inputs would flip.
  Status f32(const float* x, const float* w, float* y, int64_t m, int64_t n, int64_t k) const;

 private:
  const CublasLib* lib_ = nullptr;  // set by init()
  cublasHandle_t h_ = nullptr;
  DeviceBuffer workspace_;  // cuBLAS's scratch, fixed so that GEMMs can be captured in CUDA graphs
};

}  // namespace sgl::engine::cuda
