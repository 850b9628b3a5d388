// Reusable, uninitialised activation buffers. A forward asks for the same few large buffers every
// step; fresh zeroed vectors cost a memset each, and above glibc's mmap threshold a fresh mapping
// whose pages fault in again every step (measured: ~30 % of a 4,096-token prefill of qwen3-0.6b).
// Each buffer keeps the largest size asked of it; callers overwrite what they use.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>

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

  template <class U>
  friend class KernelScratch;
};

// A kernel's thread_local ScratchBuffer (a GEMM's bf16 copy of its activations, in every thread
// that runs GEMMs), sized by the largest forward so far, which release_kernel_scratch() hands back
// between forwards — as the model's own buffers are after an idle second — so that one long
// prefill does not stay resident in every worker thread.
class KernelScratchBase {
 public:
  KernelScratchBase();
  virtual ~KernelScratchBase();
  KernelScratchBase(const KernelScratchBase&) = delete;
  KernelScratchBase& operator=(const KernelScratchBase&) = delete;
  virtual void release() = 0;
};

template <class T>
class KernelScratch final : public KernelScratchBase {
 public:
  // The buffer for the caller's kernel call, held until the lease ends: release() skips it, and a
  // kernel this thread runs meanwhile (nested parallelism: a task stolen while it waits, e.g. the
  // next LoRA slot's GEMM) gets the next level's buffer, not this one.
  class Lease {
   public:
    Lease(KernelScratch& owner, size_t level, size_t n) : owner_(owner), hold_(owner.mu_[level]) {
      data = owner.levels_[level].get(n);
    }
    Lease(KernelScratch& owner, std::unique_ptr<T[]> spare) : owner_(owner), spare_(std::move(spare)) {
      data = spare_.get();
    }
    ~Lease() { --owner_.depth_; }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    T* data = nullptr;

   private:
    KernelScratch& owner_;
    std::unique_lock<std::mutex> hold_;
    std::unique_ptr<T[]> spare_;  // deeper than kLevels: a buffer of its own
  };

  Lease get(size_t n) {
    const size_t level = depth_++;
    if (level < kLevels) return Lease(*this, level, n);
    return Lease(*this, std::make_unique_for_overwrite<T[]>(n));
  }
  void release() override {
    for (size_t i = 0; i < kLevels; ++i) {
      std::unique_lock<std::mutex> hold(mu_[i], std::try_to_lock);
      if (!hold.owns_lock()) continue;  // held by a kernel running now (another replica's forward)
      levels_[i].data_.reset();
      levels_[i].capacity_ = 0;
    }
  }

 private:
  static constexpr size_t kLevels = 4;
  std::mutex mu_[kLevels];
  ScratchBuffer<T> levels_[kLevels];
  size_t depth_ = 0;  // leases alive on the owning thread
};

// Frees every thread's KernelScratch that no kernel holds right now.
void release_kernel_scratch();

}  // namespace sgl::engine::cpu
