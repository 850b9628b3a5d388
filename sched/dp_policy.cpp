#include "sched/dp_policy.h"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

namespace sgl::sched {

namespace {
// sgl-router's defaults, which SGLang-JAX's cache_aware uses.
constexpr int64_t kBalanceAbs = 32;
constexpr double kBalanceRel = 1.1;
constexpr double kCacheThreshold = 0.5;

uint64_t mix(uint64_t x) {  // splitmix64's finaliser: spreads the FNV state over all bits
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// The order of "less loaded": unfinished requests, then their tokens.
std::tuple<int64_t, int64_t> load_key(const DpLoad& l) {
  return {l.requests, l.input_tokens + l.output_tokens};
}

template <class Key>
int argmin(size_t n, Key key) {
  int best = 0;
  for (size_t i = 1; i < n; ++i)
    if (key(i) < key(static_cast<size_t>(best))) best = static_cast<int>(i);
  return best;
}
}  // namespace

Result<DpPolicy> parse_dp_policy(std::string_view name, bool radix_cache_enabled) {
  if (name.empty() || name == "None")
    return radix_cache_enabled ? DpPolicy::kCacheAware : DpPolicy::kMinRunningQueue;
  if (name == "round_robin") return DpPolicy::kRoundRobin;
  if (name == "min_running_queue") return DpPolicy::kMinRunningQueue;
  if (name == "cache_aware") return DpPolicy::kCacheAware;
  if (name == "shape_aware") return DpPolicy::kShapeAware;
  return invalid_argument(fmt::format(
      "--dp-schedule-policy {}: unknown policy (choose round_robin, min_running_queue, cache_aware or "
      "shape_aware)",
      name));
}

const char* dp_policy_name(DpPolicy policy) {
  switch (policy) {
    case DpPolicy::kRoundRobin:
      return "round_robin";
    case DpPolicy::kMinRunningQueue:
      return "min_running_queue";
    case DpPolicy::kCacheAware:
      return "cache_aware";
    case DpPolicy::kShapeAware:
      return "shape_aware";
  }
  return "?";
}

int pick_least_loaded(std::span<const DpLoad> loads) {
  return argmin(loads.size(), [&](size_t r) { return load_key(loads[r]); });
}

int pick_cache_aware(std::span<const DpLoad> loads, std::span<const int64_t> matched, int64_t prompt_len) {
  const auto [lo, hi] = std::minmax_element(
      loads.begin(), loads.end(), [](const DpLoad& a, const DpLoad& b) { return a.requests < b.requests; });
  if (hi->requests - lo->requests > kBalanceAbs &&
      static_cast<double>(hi->requests) > static_cast<double>(lo->requests) * kBalanceRel)
    return pick_least_loaded(loads);
  if (prompt_len > 0) {
    int best = -1;
    for (size_t r = 0; r < loads.size() && r < matched.size(); ++r) {
      if (static_cast<double>(matched[r]) / static_cast<double>(prompt_len) <= kCacheThreshold) continue;
      if (best < 0 || load_key(loads[r]) < load_key(loads[static_cast<size_t>(best)]))
        best = static_cast<int>(r);
    }
    if (best >= 0) return best;
  }
  return pick_least_loaded(loads);
}

int pick_shape_aware(std::span<const DpLoad> loads, int64_t item_input, int64_t item_output) {
  return argmin(loads.size(), [&](size_t r) {
    const int64_t in = loads[r].input_tokens + item_input, out = loads[r].output_tokens + item_output;
    return std::make_tuple(std::max(in, out), in + out);
  });
}

DpPrefixIndex::DpPrefixIndex(int replicas, int64_t capacity_tokens)
    : replicas_(static_cast<size_t>(std::max(replicas, 1))),
      capacity_blocks_(static_cast<size_t>(std::max<int64_t>(capacity_tokens / kBlock, 1))) {}

std::vector<uint64_t> DpPrefixIndex::block_hashes(std::span<const int32_t> prompt, uint64_t salt) {
  // One hash per whole block, each covering the whole prefix up to it (a chain, as the radix tree
  // is keyed by the path from the root): FNV-1a over the token ids.
  std::vector<uint64_t> out;
  out.reserve(prompt.size() / kBlock);
  uint64_t h = 0xcbf29ce484222325ULL ^ mix(salt);
  for (size_t i = 0; i < prompt.size(); ++i) {
    h = (h ^ static_cast<uint32_t>(prompt[i])) * 0x100000001b3ULL;
    if ((i + 1) % kBlock == 0) out.push_back(mix(h));
  }
  return out;
}

std::vector<int64_t> DpPrefixIndex::match(std::span<const int32_t> prompt, uint64_t salt) const {
  const auto hashes = block_hashes(prompt, salt);
  std::vector<int64_t> matched(replicas_.size(), 0);
  std::lock_guard lk(mu_);
  for (size_t r = 0; r < replicas_.size(); ++r) {
    size_t k = 0;
    while (k < hashes.size() && replicas_[r].where.count(hashes[k]) != 0) ++k;
    matched[r] = static_cast<int64_t>(k) * kBlock;
  }
  return matched;
}

void DpPrefixIndex::record(int replica, std::span<const int32_t> prompt, uint64_t salt) {
  const auto hashes = block_hashes(prompt, salt);
  std::lock_guard lk(mu_);
  Replica& rep = replicas_.at(static_cast<size_t>(replica));
  // Deepest block first, so the shared head of a prompt ends up most recent and is forgotten last
  // (the radix tree evicts leaves first).
  for (auto hit = hashes.rbegin(); hit != hashes.rend(); ++hit) {
    const uint64_t h = *hit;
    if (auto it = rep.where.find(h); it != rep.where.end()) {
      rep.lru.splice(rep.lru.begin(), rep.lru, it->second);
      continue;
    }
    rep.lru.push_front(h);
    rep.where.emplace(h, rep.lru.begin());
  }
  while (rep.lru.size() > capacity_blocks_) {
    rep.where.erase(rep.lru.back());
    rep.lru.pop_back();
  }
}

}  // namespace sgl::sched
