// The KV page pool: `num_pages` pages of `page_size` token slots. Slot s of page p is
// p * page_size + s. The scheduler owns it; the engine only sees the slots of each batch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sgl::sched {

class PagePool {
 public:
  PagePool(int64_t num_pages, int page_size);

  int page_size() const { return page_size_; }
  int64_t num_pages() const { return num_pages_; }
  int64_t num_free() const { return static_cast<int64_t>(free_.size()); }

  // Appends `n` pages to `out`; false (nothing taken) when fewer than n are free.
  bool alloc(int64_t n, std::vector<int32_t>& out);
  void free(int32_t page) { free_.push_back(page); }
  void free(const int32_t* pages, int64_t n);
  void reset();  // every page free again

 private:
  int64_t num_pages_;
  int page_size_;
  std::vector<int32_t> free_;  // a stack: recently freed pages are reused first (warm in cache)
};

}  // namespace sgl::sched
