// Which data-parallel replica a request goes to (--dp-schedule-policy): the decisions of
// SGLang-JAX's dp_schedule_policy.py over the load routed to each replica and not yet finished,
// kept free of schedulers so they can be tested alone. DataParallelScheduler supplies the loads
// and the prefix matches.
#pragma once

#include <cstdint>
#include <list>
#include <mutex>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"

namespace sgl::sched {

enum class DpPolicy { kRoundRobin, kMinRunningQueue, kCacheAware, kShapeAware };

// SGLang-JAX's names; "None" (its default) or "" picks cache_aware, or min_running_queue when the
// radix cache is off (nothing to be aware of). Errors name the value and the choices.
Result<DpPolicy> parse_dp_policy(std::string_view name, bool radix_cache_enabled);
const char* dp_policy_name(DpPolicy policy);

// Unfinished work routed to one replica: requests (samples), prompt tokens, and the output tokens
// they may still produce (max_new_tokens clipped as the scheduler's admission does).
struct DpLoad {
  int64_t requests = 0;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
};

// Least (requests, tokens), then the lowest index.
int pick_least_loaded(std::span<const DpLoad> loads);
// Cache affinity with soft balancing (sgl-router's defaults, as SGLang-JAX): when the request
// counts are skewed (max − min > 32 and max > 1.1 · min) balance; else the least loaded of the
// replicas whose cached prefix covers more than half of the prompt; else the least loaded.
// `matched[i]`: tokens of the prompt replica i holds.
int pick_cache_aware(std::span<const DpLoad> loads, std::span<const int64_t> matched, int64_t prompt_len);
// Joint prefill/decode balance: the replica whose larger side (input or output tokens) stays
// smallest with this request added; ties by total tokens, then index.
int pick_shape_aware(std::span<const DpLoad> loads, int64_t item_input, int64_t item_output);

// The router's picture of each replica's prefix cache (sgl-router's approximate tree): the
// prompts routed to a replica, as hashes of their prefixes at every kBlock tokens, least recently
// routed forgotten first beyond `capacity_tokens` per replica (its KV pool). It cannot see the
// replica's own evictions, so a match is a likelihood, never a promise. Thread-safe.
class DpPrefixIndex {
 public:
  static constexpr int64_t kBlock = 16;
  DpPrefixIndex(int replicas, int64_t capacity_tokens);
  // Tokens of `prompt` (whole blocks) each replica is believed to hold; `salt` namespaces
  // requests whose cache is apart (a LoRA adapter's uid, 0 for the base model).
  std::vector<int64_t> match(std::span<const int32_t> prompt, uint64_t salt) const;
  void record(int replica, std::span<const int32_t> prompt, uint64_t salt);

 private:
  struct Replica {
    std::list<uint64_t> lru;  // most recently routed first
    std::unordered_map<uint64_t, std::list<uint64_t>::iterator> where;
  };
  static std::vector<uint64_t> block_hashes(std::span<const int32_t> prompt, uint64_t salt);
  mutable std::mutex mu_;
  std::vector<Replica> replicas_;
  size_t capacity_blocks_;
};

}  // namespace sgl::sched
