// The machine as the CPU backend sees it: OS, CPU topology, memory (/proc/meminfo) and the memory
// cgroup's limit (base/system_memory.h) — in a container the cgroup, not MemAvailable, is what the
// kernel enforces.
// Parsers take the files' text so that tests feed them samples; probe_system() reads the real ones.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/system_memory.h"

namespace sgl::server::check_env {

// The memory probe lives in base/ (the CPU backend sizes its KV pool from it); these names keep
// --check-env's code and tests as they were.
using sgl::cgroup_file_cache_bytes;
using sgl::cgroup_memory_path;
using sgl::CgroupMemory;
using sgl::MemInfo;
using sgl::parse_cgroup_limit;
using sgl::parse_meminfo;
using sgl::read_cgroup_memory;

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
