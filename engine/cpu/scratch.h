// Reusable, uninitialised activation buffers. A forward asks for the same few large buffers every
// step; fresh zeroed vectors cost a memset each, and above glibc's mmap threshold a fresh mapping
// whose pages fault in again every step (measured: ~30 % of a 4,096-token prefill of qwen3-0.6b).
// Each buffer keeps the largest size asked of it; callers overwrite what they use.
#pragma once

#include <cstddef>
#include <memory>

namespace sgl::engine::cpu {

template <class T>
class ScratchBuffer {
 public:
  T* get(size_t n) {
    if (n > capacity_) {
      data_ = std::make_unique_for_overwrite<T[]>(n);
      capacity_ = n;
    }
    return data_.get();
  }

 private:
  std::unique_ptr<T[]> data_;
  size_t capacity_ = 0;
};

}  // namespace sgl::engine::cpu
