// Request mixes for scheduler tests: prompts sharing a few prefixes, varied lengths.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "harness.h"

namespace sgl::sched::testing {

inline const std::vector<int32_t> kEos = {0, 1, 2, 3, 4};  // ~0.5% of fake tokens end a request

struct Spec {
  std::string rid;
  std::vector<int32_t> prompt;
  int64_t max_new = 0;
};

inline std::vector<Spec> mixed_workload(int n, uint64_t seed, int max_suffix = 60, int max_new = 40) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<int32_t>> prefixes(3);
  const int prefix_len[3] = {0, 40, 100};
  for (int k = 0; k < 3; ++k)
    for (int i = 0; i < prefix_len[k]; ++i) prefixes[k].push_back(static_cast<int32_t>(10 + rng() % 990));
  std::vector<Spec> out;
  for (int i = 0; i < n; ++i) {
    Spec s;
    s.rid = "r" + std::to_string(i);
    s.prompt = prefixes[rng() % 3];
    const int suffix = 1 + static_cast<int>(rng() % static_cast<uint64_t>(max_suffix));
    for (int j = 0; j < suffix; ++j) s.prompt.push_back(static_cast<int32_t>(10 + rng() % 990));
    s.max_new = 1 + static_cast<int64_t>(rng() % static_cast<uint64_t>(max_new));
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace sgl::sched::testing
