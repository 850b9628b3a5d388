// The machine as the CPU backend sees it: OS, CPU topology, memory (/proc/meminfo) and the memory
// cgroup's limit — in a container the cgroup, not MemAvailable, is what the kernel enforces.
// Parsers take the files' text so that tests feed them samples; probe_system() reads the real ones.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sgl::server::check_env {

struct MemInfo {
  int64_t total = 0;      // MemTotal, bytes
  int64_t available = 0;  // MemAvailable: what the engine sizes its KV pool from
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

// Number of CPUs in a kernel CPU list ("0-3,8,10-11" → 7); 0 when malformed.
int count_cpu_list(std::string_view list);
// /proc/cpuinfo's "model name" (x86) or "Model" / "CPU part" (Arm); "" when absent.
std::string parse_cpu_model(std::string_view proc_cpuinfo);

struct CpuTopology {
  std::string model;
  int online = 0;          // /sys/devices/system/cpu/online
  int affinity = 0;        // sched_getaffinity: the CPUs this process (and oneTBB) may use
  int physical_cores = 0;  // distinct (package, core) pairs; 0 when sysfs lacks topology
  int sockets = 0;
  int numa_nodes = 0;  // 0 when the kernel has no NUMA support
};

struct SystemInfo {
  std::string os;  // "Linux 6.1.0 x86_64, glibc 2.36"
  CpuTopology cpu;
  std::optional<MemInfo> mem;
  CgroupMemory cgroup;
  int64_t open_files_soft = 0;  // RLIMIT_NOFILE (SGLang's check_env prints it: each client is a socket)
  // Memory a new server may use: MemAvailable, or the cgroup's room when that is smaller.
  int64_t usable_memory() const;
};

SystemInfo probe_system();

}  // namespace sgl::server::check_env
