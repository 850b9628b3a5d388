#include "base/idle_trim.h"

#include <malloc.h>

#include <atomic>

namespace sgl {
namespace {
std::atomic<uint64_t> g_activity{0};
}  // namespace

void note_activity() { g_activity.fetch_add(1, std::memory_order_relaxed); }

IdleMemoryTrimmer::IdleMemoryTrimmer(std::chrono::milliseconds quiet)
    : quiet_(quiet), thread_([this] { run(); }) {}

IdleMemoryTrimmer::~IdleMemoryTrimmer() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

int64_t IdleMemoryTrimmer::trims() const {
  std::lock_guard lk(mu_);
  return trims_;
}

void IdleMemoryTrimmer::run() {
  // Checked ten times per quiet period: the trim comes between 1 and 1.2 quiet periods after the
  // last activity (a reader of RSS two seconds after the last request sees it done).
  const auto tick = std::max(std::chrono::milliseconds(1), quiet_ / 10);
  uint64_t seen = g_activity.load(std::memory_order_relaxed), trimmed_at = seen;
  auto last_change = std::chrono::steady_clock::now();
  std::unique_lock lk(mu_);
  while (!cv_.wait_for(lk, tick, [&] { return stop_; })) {
    const uint64_t now_count = g_activity.load(std::memory_order_relaxed);
    const auto now = std::chrono::steady_clock::now();
    if (now_count != seen) {
      seen = now_count;
      last_change = now;
      continue;
    }
    if (seen != trimmed_at && now - last_change >= quiet_) {
      lk.unlock();
      malloc_trim(0);
      lk.lock();
      trimmed_at = seen;
      ++trims_;
    }
  }
}

}  // namespace sgl
