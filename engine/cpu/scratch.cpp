#include "engine/cpu/scratch.h"

#include <algorithm>
#include <memory>
#include <vector>

namespace sgl::engine::cpu {
namespace {

struct Registry {
  std::mutex mu;
  std::vector<KernelScratchBase*> live;
};

Registry& registry() {
  // Never destroyed: thread_local buffers of late-exiting threads still deregister from it.
  static Registry* r = std::make_unique<Registry>().release();
  return *r;
}

}  // namespace

KernelScratchBase::KernelScratchBase() {
  std::lock_guard lk(registry().mu);
  registry().live.push_back(this);
}

KernelScratchBase::~KernelScratchBase() {
  std::lock_guard lk(registry().mu);
  std::erase(registry().live, this);
}

void release_kernel_scratch() {
  std::lock_guard lk(registry().mu);
  for (KernelScratchBase* b : registry().live) b->release();
}

}  // namespace sgl::engine::cpu
