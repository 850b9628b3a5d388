#include "sched/spec/spec_config.h"

#include <fmt/format.h>

namespace sgl::sched::spec {

Status validate(const SpecConfig& c) {
  if (c.num_steps < 1) return invalid_argument("--speculative-num-steps must be at least 1");
  if (c.topk < 1) return invalid_argument("--speculative-eagle-topk must be at least 1");
  if (c.num_draft_tokens < 2)
    return invalid_argument("--speculative-num-draft-tokens must be at least 2 (the root and one draft)");
  // Candidates the draft produces: topk after the first step, topk² after each later one.
  const int64_t candidates = c.topk + static_cast<int64_t>(c.num_steps - 1) * c.topk * c.topk;
  const int64_t max_tokens = c.topk == 1 ? c.num_steps + 1 : candidates + 1;
  if (c.num_draft_tokens > max_tokens)
    return invalid_argument(
        fmt::format("--speculative-num-draft-tokens {} exceeds what {} steps with topk {} can draft ({} "
                    "including the root)",
                    c.num_draft_tokens, c.num_steps, c.topk, max_tokens));
  return {};
}

}  // namespace sgl::sched::spec
