#include "server/protocol/request_id.h"

#include <fmt/format.h>

#include <random>

namespace sgl::server {

std::string new_request_id() {
  // One generator per thread, seeded from the OS: ids must not repeat across restarts.
  thread_local std::mt19937_64 gen{std::random_device{}() ^ (uint64_t(std::random_device{}()) << 32)};
  uint64_t hi = gen(), lo = gen();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  return fmt::format("{:016x}{:016x}", hi, lo);
}

}  // namespace sgl::server
