#include "sched/kv_budget.h"

#include <algorithm>

namespace sgl::sched {

KvBudget plan_kv_budget(int64_t available_bytes, int64_t kv_bytes_per_token, double mem_fraction_static,
                        int64_t max_total_tokens, int page_size, int64_t cap_bytes) {
  KvBudget b;
  const int64_t page = std::max(1, page_size);
  if (kv_bytes_per_token > 0 && available_bytes > 0)
    b.memory_tokens = static_cast<int64_t>(static_cast<double>(available_bytes) * mem_fraction_static /
                                           static_cast<double>(kv_bytes_per_token));
  int64_t tokens = b.memory_tokens;
  if (max_total_tokens <= 0 && cap_bytes > 0 && kv_bytes_per_token > 0) {
    const int64_t cap_tokens = cap_bytes / kv_bytes_per_token;
    tokens = tokens > 0 ? std::min(tokens, cap_tokens) : cap_tokens;
  }
  if (max_total_tokens > 0) {
    b.capped_by_memory = b.memory_tokens > 0 && max_total_tokens > b.memory_tokens;
    tokens = b.memory_tokens > 0 ? std::min(b.memory_tokens, max_total_tokens) : max_total_tokens;
  }
  b.tokens = tokens / page * page;
  return b;
}

}  // namespace sgl::sched
