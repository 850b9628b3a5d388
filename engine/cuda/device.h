// CUDA runtime helpers: errors as Status values, and RAII owners of device and pinned memory.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "base/result.h"

namespace sgl::engine::cuda {

// A failed CUDA call as an internal error naming what was being done.
Status cuda_status(cudaError_t e, const char* what);
#define SGL_CUDA_TRY(call) SGL_TRY(::sgl::engine::cuda::cuda_status((call), #call))

// Number of CUDA devices usable by this process (0 without a driver or GPU).
int device_count();

// What a CudaBuffer holds: device memory (cudaMalloc) or page-locked host memory (cudaMallocHost,
// for asynchronous copies).
struct DeviceMemory {
  static Status allocate(void** p, size_t bytes);  // kResourceExhausted when it does not fit
  static void release(void* p);
};
struct PinnedMemory {
  static Status allocate(void** p, size_t bytes);
  static void release(void* p);
};

// Owns one block of `Memory`. Move-only.
template <class Memory>
class CudaBuffer {
 public:
  CudaBuffer() = default;
  ~CudaBuffer() { reset(); }
  CudaBuffer(CudaBuffer&& o) noexcept
      : p_(std::exchange(o.p_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
  CudaBuffer& operator=(CudaBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      p_ = std::exchange(o.p_, nullptr);
      bytes_ = std::exchange(o.bytes_, 0);
    }
    return *this;
  }
  CudaBuffer(const CudaBuffer&) = delete;
  CudaBuffer& operator=(const CudaBuffer&) = delete;

  static Result<CudaBuffer> alloc(size_t bytes) {
    CudaBuffer b;
    SGL_TRY(b.reserve(bytes));
    return b;
  }
  // Grows (never shrinks) to at least `bytes`; contents are not kept.
  Status reserve(size_t bytes) {
    if (bytes <= bytes_) return {};
    reset();
    void* p = nullptr;
    SGL_TRY(Memory::allocate(&p, bytes));
    p_ = p;
    bytes_ = bytes;
    return {};
  }
  void reset() {
    if (p_) Memory::release(p_);
    p_ = nullptr;
    bytes_ = 0;
  }

  template <class T = void>
  T* as() const {
    return static_cast<T*>(p_);
  }
  size_t bytes() const { return bytes_; }

 private:
  void* p_ = nullptr;
  size_t bytes_ = 0;
};

using DeviceBuffer = CudaBuffer<DeviceMemory>;
using PinnedBuffer = CudaBuffer<PinnedMemory>;

// Owns a stream.
class Stream {
 public:
  Stream() = default;
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  Status create();
  cudaStream_t get() const { return s_; }

 private:
  cudaStream_t s_ = nullptr;
};

}  // namespace sgl::engine::cuda
