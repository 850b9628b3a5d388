#include "server/open_files.h"

#include <sys/resource.h>

#include <algorithm>

namespace sgl::server {

size_t connections_under_limit(size_t wanted, uint64_t soft_limit) {
  if (soft_limit == RLIM_INFINITY) return wanted;
  const uint64_t room = soft_limit > kReservedDescriptors ? soft_limit - kReservedDescriptors : 1;
  return std::max<size_t>(1, std::min<uint64_t>(wanted, room));
}

OpenFilesPlan plan_open_files(size_t wanted) {
  OpenFilesPlan p;
  struct rlimit rl {};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    p.max_connections = wanted;
    return p;
  }
  if (rl.rlim_cur < rl.rlim_max) {
    struct rlimit raised = rl;
    raised.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
  }
  p.soft_limit = rl.rlim_cur;
  p.max_connections = connections_under_limit(wanted, rl.rlim_cur);
  return p;
}

}  // namespace sgl::server
