#include "server/check_env/system_probe.h"

#include <fmt/format.h>
#include <gnu/libc-version.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

namespace sgl::server::check_env {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

std::optional<int64_t> to_int(std::string_view s) {
  s = trim(s);
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// Calls f(line) for each line of `text`.
template <class F>
void for_each_line(std::string_view text, F&& f) {
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    f(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

// "key<sep>value" → value, for the first line whose key (trimmed) is `key`.
std::optional<std::string_view> field(std::string_view text, std::string_view key, char sep) {
  std::optional<std::string_view> out;
  for_each_line(text, [&](std::string_view line) {
    const size_t at = line.find(sep);
    if (!out && at != std::string_view::npos && trim(line.substr(0, at)) == key)
      out = trim(line.substr(at + 1));
  });
  return out;
}

// The tightest limit of `file` from `dir` up to `root` (a child cannot use more than its parents).
std::optional<int64_t> tightest_limit(fs::path dir, const fs::path& root, const char* file) {
  std::optional<int64_t> best;
  for (;;) {
    if (auto text = read_text((dir / file).string())) {
      if (auto v = parse_cgroup_limit(*text); v && (!best || *v < *best)) best = v;
    }
    if (dir == root || !dir.has_parent_path() || dir.parent_path() == dir) break;
    dir = dir.parent_path();
  }
  return best;
}

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

std::optional<MemInfo> parse_meminfo(std::string_view text) {
  // Values are in kB ("MemAvailable:   23755404 kB").
  auto kb = [&](std::string_view key) -> std::optional<int64_t> {
    auto v = field(text, key, ':');
    if (!v) return std::nullopt;
    std::string_view s = *v;
    if (s.ends_with("kB")) s.remove_suffix(2);
    auto n = to_int(s);
    if (!n) return std::nullopt;
    return *n * 1024;
  };
  auto total = kb("MemTotal"), available = kb("MemAvailable");
  if (!total || !available) return std::nullopt;
  return MemInfo{*total, *available};
}

std::optional<int64_t> parse_cgroup_limit(std::string_view text) {
  text = trim(text);
  if (text == "max") return std::nullopt;
  auto v = to_int(text);
  // v1 writes "no limit" as LONG_MAX rounded down to a page; nothing real comes near 2^62.
  if (!v || *v < 0 || *v >= (int64_t(1) << 62)) return std::nullopt;
  return v;
}

std::optional<std::string> cgroup_memory_path(std::string_view proc_self_cgroup, int version) {
  std::optional<std::string> out;
  for_each_line(proc_self_cgroup, [&](std::string_view line) {
    // hierarchy-ID:controller-list:path (the path may itself hold ':').
    const size_t a = line.find(':');
    if (out || a == std::string_view::npos) return;
    const size_t b = line.find(':', a + 1);
    if (b == std::string_view::npos) return;
    const std::string_view id = line.substr(0, a), controllers = line.substr(a + 1, b - a - 1);
    const std::string_view path = line.substr(b + 1);
    if (version == 2 && id == "0" && controllers.empty()) out = std::string(path);
    if (version == 1) {
      std::string_view rest = controllers;
      while (!rest.empty()) {
        const size_t comma = rest.find(',');
        if (rest.substr(0, comma) == "memory") out = std::string(path);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
    }
  });
  return out;
}

int64_t cgroup_file_cache_bytes(std::string_view memory_stat, int version) {
  auto get = [&](std::string_view key) -> std::optional<int64_t> {
    auto v = field(memory_stat, key, ' ');
    return v ? to_int(*v) : std::nullopt;
  };
  if (version == 2) return get("file").value_or(0);
  if (auto hierarchical = get("total_cache")) return *hierarchical;
  return get("cache").value_or(0);
}

CgroupMemory read_cgroup_memory(std::string_view proc_self_cgroup, const std::string& cgroup_root) {
  CgroupMemory m;
  std::error_code ec;
  const fs::path root(cgroup_root);
  fs::path mount;
  const char* limit_file = nullptr;
  const char* usage_file = nullptr;
  if (fs::exists(root / "cgroup.controllers", ec)) {
    m.version = 2, mount = root, limit_file = "memory.max", usage_file = "memory.current";
  } else if (fs::is_directory(root / "memory", ec)) {
    m.version = 1, mount = root / "memory", limit_file = "memory.limit_in_bytes";
    usage_file = "memory.usage_in_bytes";
  } else {
    return m;
  }
  m.path = cgroup_memory_path(proc_self_cgroup, m.version).value_or("/");
  // Without a cgroup namespace a container sees its host path, which its own mount does not have:
  // then the mount's root is the container's cgroup.
  fs::path dir = mount / fs::path(m.path).relative_path();
  if (!fs::is_directory(dir, ec)) dir = mount;
  m.limit = tightest_limit(dir, mount, limit_file);
  auto usage_text = read_text((dir / usage_file).string());
  if (auto usage = usage_text ? to_int(*usage_text) : std::nullopt) {
    int64_t cache = 0;
    if (auto stat = read_text((dir / "memory.stat").string()))
      cache = cgroup_file_cache_bytes(*stat, m.version);
    m.usage = std::max<int64_t>(0, *usage - cache);
  }
  return m;
}

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

int64_t SystemInfo::usable_memory() const {
  int64_t usable = mem ? mem->available : 0;
  if (auto room = cgroup.room(); room && (usable == 0 || *room < usable)) usable = *room;
  return usable;
}

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
