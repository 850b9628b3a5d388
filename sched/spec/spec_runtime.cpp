#include "sched/spec/spec_runtime.h"

namespace sgl::sched::spec {

SpecRuntime::SpecRuntime(engine::ModelRunner& target, std::shared_ptr<engine::spec::Eagle3Draft> draft,
                         SpecConfig cfg)
    : draft_(std::move(draft)), worker_(target, *draft_, cfg) {}

Status SpecRuntime::init(int64_t num_slots) {
  const auto& c = worker_.config();
  // Scratch for the tree rows of a typical batch; the draft grows it when a batch needs more.
  return draft_->init_kv(num_slots, int64_t{64} * c.topk * c.num_steps);
}

}  // namespace sgl::sched::spec
