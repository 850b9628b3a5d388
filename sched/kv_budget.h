// The KV pool's size in tokens, from the memory the runner can use and the launch flags: SGLang's
// rule (--mem-fraction-static of the available memory, --max-total-tokens as a cap), page-aligned.
// A --max-total-tokens larger than the memory allows gets what fits, and says so.
#pragma once

#include <cstdint>

namespace sgl::sched {

struct KvBudget {
  int64_t tokens = 0;             // the pool, a multiple of the page size (may be < 2 pages: too small)
  int64_t memory_tokens = 0;      // what memory allows (0 when the runner reports none)
  bool capped_by_memory = false;  // --max-total-tokens asked for more than memory allows
};

// `cap_bytes` > 0 bounds the memory share further (the CPU default, --cpu-kv-cache-gib); it does
// not apply to an explicit --max-total-tokens.
KvBudget plan_kv_budget(int64_t available_bytes, int64_t kv_bytes_per_token, double mem_fraction_static,
                        int64_t max_total_tokens, int page_size, int64_t cap_bytes = 0);

}  // namespace sgl::sched
