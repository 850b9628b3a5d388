#include "server/check_env/system_probe.h"

#include <fmt/format.h>
#include <gnu/libc-version.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>
#include <utility>

#include "base/proc_text.h"

namespace sgl::server::check_env {
namespace {

namespace fs = std::filesystem;
using sgl::proc::field;
using sgl::proc::read_text;
using sgl::proc::to_int;
using sgl::proc::trim;

CpuTopology probe_cpu_topology() {
  CpuTopology t;
  if (auto info = read_text("/proc/cpuinfo")) t.model = parse_cpu_model(*info);
  std::string online_list;
  if (auto online = read_text("/sys/devices/system/cpu/online")) {
    online_list = std::string(trim(*online));
    t.online = count_cpu_list(online_list);
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) t.affinity = CPU_COUNT(&set);
  // Physical cores: hyperthreads share a (package, core) pair.
  std::set<std::pair<int64_t, int64_t>> cores;
  std::set<int64_t> packages;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/sys/devices/system/cpu", ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() < 4 || name.compare(0, 3, "cpu") != 0 ||
        !std::isdigit(static_cast<unsigned char>(name[3])))
      continue;
    auto pkg = read_text((e.path() / "topology/physical_package_id").string());
    auto core = read_text((e.path() / "topology/core_id").string());
    if (!pkg || !core) continue;  // offline CPUs have no topology directory
    auto p = to_int(*pkg), c = to_int(*core);
    if (p && c) cores.emplace(*p, *c), packages.insert(*p);
  }
  t.physical_cores = int(cores.size());
  t.sockets = int(packages.size());
  if (auto nodes = read_text("/sys/devices/system/node/online")) t.numa_nodes = count_cpu_list(trim(*nodes));
  return t;
}

std::string os_text() {
  std::string os = "unknown";
  struct utsname u {};
  if (uname(&u) == 0) os = fmt::format("{} {} {}", u.sysname, u.release, u.machine);
  return fmt::format("{}, glibc {}", os, gnu_get_libc_version());
}

}  // namespace

int count_cpu_list(std::string_view list) {
  list = trim(list);
  if (list.empty()) return 0;
  int n = 0;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view item = list.substr(0, comma);
    const size_t dash = item.find('-');
    auto lo = to_int(item.substr(0, dash));
    auto hi = dash == std::string_view::npos ? lo : to_int(item.substr(dash + 1));
    if (!lo || !hi || *hi < *lo) return 0;
    n += int(*hi - *lo + 1);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return n;
}

std::string parse_cpu_model(std::string_view proc_cpuinfo) {
  for (std::string_view key : {"model name", "Model", "CPU part"})
    if (auto v = field(proc_cpuinfo, key, ':'); v && !v->empty()) return std::string(*v);
  return "";
}

int64_t SystemInfo::usable_memory() const { return sgl::memory_snapshot(mem, cgroup).usable; }

SystemInfo probe_system() {
  SystemInfo s;
  s.os = os_text();
  s.cpu = probe_cpu_topology();
  if (auto text = read_text("/proc/meminfo")) s.mem = parse_meminfo(*text);
  s.cgroup = read_cgroup_memory(read_text("/proc/self/cgroup").value_or(""), "/sys/fs/cgroup");
  struct rlimit rl {};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) s.open_files_soft = int64_t(rl.rlim_cur);
  return s;
}

}  // namespace sgl::server::check_env
