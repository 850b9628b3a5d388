#include "engine/cuda/device.h"

#include <fmt/format.h>

namespace sgl::engine::cuda {

Status cuda_status(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return {};
  return internal_error(
      fmt::format("CUDA error {} ({}) in {}", cudaGetErrorName(e), cudaGetErrorString(e), what));
}

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky "no driver" error
    return 0;
  }
  return n;
}

Status DeviceMemory::allocate(void** p, size_t bytes) {
  if (cudaError_t e = cudaMalloc(p, bytes); e != cudaSuccess) {
    (void)cudaGetLastError();
    *p = nullptr;
    return Error{ErrorCode::kResourceExhausted,
                 fmt::format("cudaMalloc of {} bytes failed: {}", bytes, cudaGetErrorString(e))};
  }
  return {};
}

void DeviceMemory::release(void* p) { cudaFree(p); }

Status PinnedMemory::allocate(void** p, size_t bytes) {
  SGL_CUDA_TRY(cudaMallocHost(p, bytes));
  return {};
}

void PinnedMemory::release(void* p) { cudaFreeHost(p); }

Stream::~Stream() {
  if (s_) cudaStreamDestroy(s_);
}

Status Stream::create() {
  SGL_CUDA_TRY(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking));
  return {};
}

}  // namespace sgl::engine::cuda
