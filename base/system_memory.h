// What memory this process may take: /proc/meminfo's MemAvailable and the memory cgroup's limit
// (v2 or v1) — in a container the cgroup, not MemAvailable, is what the kernel enforces. The CPU
// backend sizes and commits its KV pool from it; sglcpp-server --check-env reports it. Parsers take
// the files' text so that tests feed them samples; read_memory_snapshot() reads the real ones.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sgl {

struct MemInfo {
  int64_t total = 0;      // MemTotal, bytes
  int64_t available = 0;  // MemAvailable: what can be allocated without swapping
};
// nullopt when MemTotal or MemAvailable is missing (kernels before 3.14 lack MemAvailable).
std::optional<MemInfo> parse_meminfo(std::string_view text);

// A memory.max (v2) or memory.limit_in_bytes (v1) value; nullopt for no limit ("max", or v1's
// page-rounded INT64_MAX) and for text that is not a number.
std::optional<int64_t> parse_cgroup_limit(std::string_view text);
// The memory cgroup's path in /proc/self/cgroup: v2's "0::/path", v1's "N:...memory...:/path".
std::optional<std::string> cgroup_memory_path(std::string_view proc_self_cgroup, int version);
// Page cache charged to the cgroup (memory.stat: v2 "file", v1 "total_cache" or "cache"): the
// kernel reclaims it before it kills, so it does not count against the room left.
int64_t cgroup_file_cache_bytes(std::string_view memory_stat, int version);

struct CgroupMemory {
  int version = 0;  // 0: no memory controller found
  std::string path;
  std::optional<int64_t> limit;  // the tightest limit from this cgroup up to the root
  int64_t usage = 0;             // memory.current / memory.usage_in_bytes, page cache excluded
  std::optional<int64_t> room() const {
    if (!limit) return std::nullopt;
    return *limit > usage ? *limit - usage : 0;
  }
};
// Reads the limits under `cgroup_root` (normally /sys/fs/cgroup) for the cgroup that
// `proc_self_cgroup` names; v2 when cgroup.controllers is at the root, else v1's memory/ mount.
CgroupMemory read_cgroup_memory(std::string_view proc_self_cgroup, const std::string& cgroup_root);

// The two figures an allocation plan needs, cgroup included; 0 when unknown.
struct MemorySnapshot {
  int64_t total = 0;   // MemTotal, or the cgroup's limit when smaller
  int64_t usable = 0;  // MemAvailable, or the cgroup's room when smaller
};
MemorySnapshot memory_snapshot(const std::optional<MemInfo>& mem, const CgroupMemory& cgroup);
// From /proc/meminfo, /proc/self/cgroup and /sys/fs/cgroup, now.
MemorySnapshot read_memory_snapshot();

}  // namespace sgl
