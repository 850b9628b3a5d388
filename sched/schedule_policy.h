// Waiting-queue order (--schedule-policy): fcfs, lpm (longest cached prefix first), random,
// dfs-weight (depth-first over the radix tree, heavier subtrees first). Cache-aware policies fall
// back to fcfs without a radix cache, and lpm also when the queue is long (as SGLang).
#pragma once

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "sched/radix_cache.h"
#include "sched/req.h"

namespace sgl::sched {

enum class SchedulePolicy { kFcfs, kLpm, kRandom, kDfsWeight };
SchedulePolicy parse_schedule_policy(const std::string& name);  // unknown → fcfs

void order_queue(SchedulePolicy policy, std::vector<std::shared_ptr<Req>>& queue, RadixCache* radix,
                 std::mt19937_64& rng);

}  // namespace sgl::sched
