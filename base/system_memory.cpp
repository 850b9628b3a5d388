#include "base/system_memory.h"

#include <algorithm>
#include <filesystem>

#include "base/proc_text.h"

namespace sgl {
namespace {

namespace fs = std::filesystem;
using proc::field;
using proc::for_each_line;
using proc::read_text;
using proc::to_int;
using proc::trim;

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

MemorySnapshot memory_snapshot(const std::optional<MemInfo>& mem, const CgroupMemory& cgroup) {
  MemorySnapshot s;
  if (mem) s.total = mem->total, s.usable = mem->available;
  if (cgroup.limit && (s.total == 0 || *cgroup.limit < s.total)) s.total = *cgroup.limit;
  if (auto room = cgroup.room(); room && (s.usable == 0 || *room < s.usable)) s.usable = *room;
  return s;
}

MemorySnapshot read_memory_snapshot() {
  std::optional<MemInfo> mem;
  if (auto text = read_text("/proc/meminfo")) mem = parse_meminfo(*text);
  return memory_snapshot(mem,
                         read_cgroup_memory(read_text("/proc/self/cgroup").value_or(""), "/sys/fs/cgroup"));
}

}  // namespace sgl
