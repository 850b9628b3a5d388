// An owning, typed, shaped block of memory for weights and the KV pool. Unlike std::vector it
// does not touch its memory on creation: `empty` is uninitialised (64-byte aligned, for weights
// that are written next anyway) and `zeros` comes from calloc, whose large blocks are fresh
// zero pages the OS maps only when first written — a KV pool sized to most of RAM costs nothing
// until used.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <new>
#include <numeric>
#include <utility>
#include <vector>

#include "engine/dtype.h"

namespace sgl::engine {

class Tensor {
 public:
  Tensor() = default;

  static Tensor empty(DType dtype, std::vector<int64_t> shape) {
    Tensor t(dtype, std::move(shape));
    constexpr size_t kAlign = 64;
    const size_t n = (static_cast<size_t>(t.bytes()) + kAlign - 1) / kAlign * kAlign;
    t.data_.reset(static_cast<std::byte*>(n ? std::aligned_alloc(kAlign, n) : nullptr));
    if (n && !t.data_) throw std::bad_alloc();
    return t;
  }
  static Tensor zeros(DType dtype, std::vector<int64_t> shape) {
    Tensor t(dtype, std::move(shape));
    const auto n = static_cast<size_t>(t.bytes());
    t.data_.reset(static_cast<std::byte*>(n ? std::calloc(n, 1) : nullptr));
    if (n && !t.data_) throw std::bad_alloc();
    return t;
  }

  DType dtype() const { return dtype_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  int64_t numel() const {
    return std::accumulate(shape_.begin(), shape_.end(), int64_t{1}, std::multiplies<>());
  }
  int64_t bytes() const { return shape_.empty() ? 0 : numel() * dtype_size(dtype_); }
  void* data() { return data_.get(); }
  const void* data() const { return data_.get(); }

 private:
  struct Free {
    void operator()(std::byte* p) const { std::free(p); }
  };
  Tensor(DType dtype, std::vector<int64_t> shape) : dtype_(dtype), shape_(std::move(shape)) {}

  DType dtype_ = DType::kF32;
  std::vector<int64_t> shape_;
  std::unique_ptr<std::byte[], Free> data_;
};

}  // namespace sgl::engine
