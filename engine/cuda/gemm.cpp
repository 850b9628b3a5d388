#include "engine/cuda/gemm.h"

#include <fmt/format.h>

#include "engine/cuda/cublas_lib.h"

namespace sgl::engine::cuda {

namespace {

Status cublas_status(const CublasLib& lib, cublasStatus_t s, const char* what) {
  if (s == CUBLAS_STATUS_SUCCESS) return {};
  return internal_error(fmt::format("cuBLAS error {} in {}", lib.status_string(s), what));
}

}  // namespace

Gemm::~Gemm() {
  if (h_) lib_->destroy(h_);
}

Status Gemm::init(cudaStream_t stream) {
  SGL_ASSIGN_OR_RETURN(lib_, cublas_lib());
  SGL_TRY(cublas_status(*lib_, lib_->create(&h_), "cublasCreate"));
  SGL_TRY(cublas_status(*lib_, lib_->set_stream(h_, stream), "cublasSetStream"));
  constexpr size_t kWorkspace = size_t{32} << 20;
  SGL_TRY(workspace_.reserve(kWorkspace));
  SGL_TRY(cublas_status(*lib_, lib_->set_workspace(h_, workspace_.as(), kWorkspace), "cublasSetWorkspace"));
  // Keep fp32 GEMMs in full precision (the default math mode may use TF32 on some setups).
  SGL_TRY(cublas_status(*lib_, lib_->set_math_mode(h_, CUBLAS_DEFAULT_MATH), "cublasSetMathMode"));
  return {};
}

// cuBLAS is column-major: the row-major y[M, N] is the column-major yᵀ[N, M] = W·xᵀ, with W
// (row-major [N, K]) read as the transpose of a column-major [K, N] matrix.
Status Gemm::bf16(const uint16_t* x, const uint16_t* w, float* y, int64_t m, int64_t n, int64_t k,
                  bool accumulate) const {
  if (m == 0) return {};
  const float alpha = 1.0f, beta = accumulate ? 1.0f : 0.0f;
  return cublas_status(*lib_,
                       lib_->gemm_ex(h_, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(n), static_cast<int>(m),
                                     static_cast<int>(k), &alpha, w, CUDA_R_16BF, static_cast<int>(k), x,
                                     CUDA_R_16BF, static_cast<int>(k), &beta, y, CUDA_R_32F,
                                     static_cast<int>(n), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                       "cublasGemmEx(bf16 → f32)");
}

Status Gemm::bf16_out(const uint16_t* x, const uint16_t* w, uint16_t* y, int64_t m, int64_t n,
                      int64_t k) const {
  if (m == 0) return {};
  const float alpha = 1.0f, beta = 0.0f;
  return cublas_status(*lib_,
                       lib_->gemm_ex(h_, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(n), static_cast<int>(m),
                                     static_cast<int>(k), &alpha, w, CUDA_R_16BF, static_cast<int>(k), x,
                                     CUDA_R_16BF, static_cast<int>(k), &beta, y, CUDA_R_16BF,
                                     static_cast<int>(n), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                       "cublasGemmEx(bf16 → bf16)");
}

Status Gemm::f32(const float* x, const float* w, float* y, int64_t m, int64_t n, int64_t k) const {
  if (m == 0) return {};
  const float alpha = 1.0f, beta = 0.0f;
  return cublas_status(*lib_,
                       lib_->gemm_ex(h_, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(n), static_cast<int>(m),
                                     static_cast<int>(k), &alpha, w, CUDA_R_32F, static_cast<int>(k), x,
                                     CUDA_R_32F, static_cast<int>(k), &beta, y, CUDA_R_32F,
                                     static_cast<int>(n), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                       "cublasGemmEx(f32)");
}

}  // namespace sgl::engine::cuda
