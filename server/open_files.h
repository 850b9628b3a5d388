// Every HTTP connection is a file descriptor. An accept() that fails with EMFILE leaves the client
// waiting in the kernel's backlog with no answer, so the connection cap must sit below the
// open-files limit, which this raises to its hard ceiling first (as Go's runtime and nginx do).
#pragma once

#include <cstddef>
#include <cstdint>

namespace sgl::server {

struct OpenFilesPlan {
  size_t max_connections = 0;  // `wanted`, or what fits under the limit
  uint64_t soft_limit = 0;     // RLIMIT_NOFILE after raising
};

// Descriptors kept for the server's own files, pipes, epoll and the refusals' sockets.
inline constexpr uint64_t kReservedDescriptors = 256;

// The connection cap that fits under `soft_limit` descriptors (pure; at least 1).
size_t connections_under_limit(size_t wanted, uint64_t soft_limit);
// Raises the soft RLIMIT_NOFILE to the hard one and fits `wanted` under it.
OpenFilesPlan plan_open_files(size_t wanted);

}  // namespace sgl::server
