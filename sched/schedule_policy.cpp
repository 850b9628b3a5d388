#include "sched/schedule_policy.h"

#include <algorithm>
#include <unordered_map>

#include "sched/scheduler_impl.h"

namespace sgl::sched {
namespace {
constexpr size_t kLpmFallbackQueueLen = 128;

void by_arrival(std::vector<std::shared_ptr<Req>>& q) {
  std::stable_sort(q.begin(), q.end(), [](const auto& a, const auto& b) { return a->arrival < b->arrival; });
}

void dfs_weight(std::vector<std::shared_ptr<Req>>& q, RadixCache& radix) {
  std::unordered_map<RadixNode*, std::vector<std::shared_ptr<Req>>> at;
  std::unordered_map<RadixNode*, int64_t> weight;
  for (auto& r : q) {
    auto m =
        r->shares_prefix_cache()
            ? radix.match_prefix(r->tokens.data(), static_cast<int64_t>(r->tokens.size()) - 1, r->lora_uid)
            : RadixCache::Match{{}, radix.root(r->lora_uid), 0};
    at[m.node].push_back(r);
    for (RadixNode* n = m.node; n != nullptr; n = n->parent) ++weight[n];
  }
  std::vector<std::shared_ptr<Req>> out;
  out.reserve(q.size());
  std::vector<RadixNode*> stack = radix.roots();  // one tree per LoRA namespace
  while (!stack.empty()) {
    RadixNode* n = stack.back();
    stack.pop_back();
    if (auto it = at.find(n); it != at.end()) {
      by_arrival(it->second);
      out.insert(out.end(), it->second.begin(), it->second.end());
    }
    std::vector<RadixNode*> kids;
    for (auto& [h, c] : n->children)
      if (weight.count(c.get())) kids.push_back(c.get());
    // Pushed lightest first so that the heaviest subtree is visited next.
    std::sort(kids.begin(), kids.end(), [&](RadixNode* a, RadixNode* b) { return weight[a] < weight[b]; });
    stack.insert(stack.end(), kids.begin(), kids.end());
  }
  q = std::move(out);
}
}  // namespace

SchedulePolicy parse_schedule_policy(const std::string& name) {
  if (name == "lpm") return SchedulePolicy::kLpm;
  if (name == "random") return SchedulePolicy::kRandom;
  if (name == "dfs-weight") return SchedulePolicy::kDfsWeight;
  return SchedulePolicy::kFcfs;
}

void order_queue(SchedulePolicy policy, std::vector<std::shared_ptr<Req>>& q, RadixCache* radix,
                 std::mt19937_64& rng) {
  if (radix == nullptr && (policy == SchedulePolicy::kLpm || policy == SchedulePolicy::kDfsWeight))
    policy = SchedulePolicy::kFcfs;
  if (policy == SchedulePolicy::kLpm && q.size() > kLpmFallbackQueueLen) policy = SchedulePolicy::kFcfs;
  switch (policy) {
    case SchedulePolicy::kFcfs:
      by_arrival(q);
      break;
    case SchedulePolicy::kRandom:
      std::shuffle(q.begin(), q.end(), rng);
      break;
    case SchedulePolicy::kLpm: {
      std::unordered_map<const Req*, int64_t> len;
      for (auto& r : q)
        len[r.get()] = r->shares_prefix_cache()
                           ? radix
                                 ->match_prefix(r->tokens.data(), static_cast<int64_t>(r->tokens.size()) - 1,
                                                r->lora_uid)
                                 .len
                           : 0;
      std::stable_sort(q.begin(), q.end(), [&](const auto& a, const auto& b) {
        if (len[a.get()] != len[b.get()]) return len[a.get()] > len[b.get()];
        return a->arrival < b->arrival;
      });
      break;
    }
    case SchedulePolicy::kDfsWeight:
      dfs_weight(q, *radix);
      break;
  }
}

void SchedulerImpl::order_waiting() {
  order_queue(parse_schedule_policy(cfg_.schedule_policy), waiting_,
              cfg_.disable_radix_cache ? nullptr : &radix_, rng_);
}

}  // namespace sgl::sched
