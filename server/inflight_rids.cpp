#include "server/inflight_rids.h"

namespace sgl::server {

void InflightRids::add(const std::string& rid) {
  std::lock_guard lock(mu_);
  ++count_[rid];
}

void InflightRids::remove(const std::string& rid) {
  std::lock_guard lock(mu_);
  auto it = count_.find(rid);
  if (it != count_.end() && --it->second <= 0) count_.erase(it);
}

std::vector<std::string> InflightRids::snapshot() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  out.reserve(count_.size());
  for (const auto& [rid, n] : count_) out.push_back(rid);
  return out;
}

}  // namespace sgl::server
