#include "sched/page_pool.h"

namespace sgl::sched {

PagePool::PagePool(int64_t num_pages, int page_size) : num_pages_(num_pages), page_size_(page_size) {
  reset();
}

void PagePool::reset() {
  free_.clear();
  free_.reserve(static_cast<size_t>(num_pages_));
  // Highest first so that pops hand out pages 0, 1, 2, ... (easier to read in logs and tests).
  for (int64_t p = num_pages_ - 1; p >= 0; --p) free_.push_back(static_cast<int32_t>(p));
}

bool PagePool::alloc(int64_t n, std::vector<int32_t>& out) {
  if (n > num_free()) return false;
  for (int64_t i = 0; i < n; ++i) {
    out.push_back(free_.back());
    free_.pop_back();
  }
  return true;
}

void PagePool::free(const int32_t* pages, int64_t n) {
  for (int64_t i = 0; i < n; ++i) free_.push_back(pages[i]);
}

}  // namespace sgl::sched
