#include "engine/dist/communicator.h"

#include <fmt/format.h>

namespace sgl::engine::dist {

std::string TrackedCommunicator::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

CollectiveStats TrackedCommunicator::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void TrackedCommunicator::reset_stats() {
  std::lock_guard lock(mu_);
  stats_ = {};
}

bool TrackedCommunicator::broken() const {
  std::lock_guard lock(mu_);
  return !failure_.empty();
}

Status TrackedCommunicator::healthy() const {
  std::lock_guard lock(mu_);
  if (!failure_.empty()) return Error{ErrorCode::kUnavailable, failure_};
  return {};
}

Error TrackedCommunicator::failed(const char* library, const char* what, const std::string& reason) {
  std::lock_guard lock(mu_);
  failure_ = fmt::format(
      "tensor-parallel rank {} of {}: {}{} failed (a peer rank died or stopped answering within "
      "--dist-timeout {} s): {}",
      rank(), size(), library, what, timeout().count() / 1000.0, reason);
  return Error{ErrorCode::kUnavailable, failure_};
}

void TrackedCommunicator::succeeded(size_t bytes, Clock::time_point started) {
  std::lock_guard lock(mu_);
  stats_.calls++;
  stats_.bytes += static_cast<int64_t>(bytes);
  stats_.seconds += std::chrono::duration<double>(Clock::now() - started).count();
}

}  // namespace sgl::engine::dist
