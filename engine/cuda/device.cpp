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

Result<DeviceBuffer> DeviceBuffer::alloc(size_t bytes) {
  DeviceBuffer b;
  SGL_TRY(b.reserve(bytes));
  return b;
}

Status DeviceBuffer::reserve(size_t bytes) {
  if (bytes <= bytes_) return {};
  reset();
  void* p = nullptr;
  if (cudaError_t e = cudaMalloc(&p, bytes); e != cudaSuccess) {
    (void)cudaGetLastError();
    return Error{ErrorCode::kResourceExhausted,
                 fmt::format("cudaMalloc of {} bytes failed: {}", bytes, cudaGetErrorString(e))};
  }
  p_ = p;
  bytes_ = bytes;
  return {};
}

void DeviceBuffer::reset() {
  if (p_) cudaFree(p_);
  p_ = nullptr;
  bytes_ = 0;
}

Status PinnedBuffer::reserve(size_t bytes) {
  if (bytes <= bytes_) return {};
  reset();
  void* p = nullptr;
  SGL_CUDA_TRY(cudaMallocHost(&p, bytes));
  p_ = p;
  bytes_ = bytes;
  return {};
}

void PinnedBuffer::reset() {
  if (p_) cudaFreeHost(p_);
  p_ = nullptr;
  bytes_ = 0;
}

Stream::~Stream() {
  if (s_) cudaStreamDestroy(s_);
}

Status Stream::create() {
  SGL_CUDA_TRY(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking));
  return {};
}

}  // namespace sgl::engine::cuda
