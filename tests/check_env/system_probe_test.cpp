// /proc and cgroup parsing from sample files, and the cgroup walk over a made-up hierarchy.
#include "server/check_env/system_probe.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace sgl::server::check_env {
namespace {

namespace fs = std::filesystem;
constexpr int64_t kGiB = int64_t(1) << 30;

// A scratch directory removed with the test.
class TempDir {
 public:
  TempDir()
      : path_(fs::temp_directory_path() /
              ("check_env_test_" + std::to_string(getpid()) + "_" + std::to_string(counter_++))) {
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  void write(const std::string& rel, const std::string& text) const {
    fs::create_directories((path_ / rel).parent_path());
    std::ofstream(path_ / rel) << text;
  }
  std::string str() const { return path_.string(); }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

TEST(Meminfo, ReadsTotalAndAvailableInBytes) {
  const char* sample =
      "MemTotal:       24683772 kB\n"
      "MemFree:        19495084 kB\n"
      "MemAvailable:   23755404 kB\n"
      "Buffers:           37796 kB\n";
  auto m = parse_meminfo(sample);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->total, 24683772LL * 1024);
  EXPECT_EQ(m->available, 23755404LL * 1024);
}

TEST(Meminfo, WithoutMemAvailableIsUnknown) {
  EXPECT_FALSE(parse_meminfo("MemTotal: 1000 kB\nMemFree: 10 kB\n"));
  EXPECT_FALSE(parse_meminfo(""));
}

TEST(CgroupLimit, MaxAndV1NoLimitAreNone) {
  EXPECT_FALSE(parse_cgroup_limit("max\n"));
  EXPECT_FALSE(parse_cgroup_limit("9223372036854771712\n"));  // v1's "no limit"
  EXPECT_FALSE(parse_cgroup_limit("lots"));
  EXPECT_EQ(parse_cgroup_limit("8589934592\n"), 8 * kGiB);
}

TEST(CgroupPath, FindsTheMemoryHierarchy) {
  EXPECT_EQ(cgroup_memory_path("0::/system.slice/sglcpp.service\n", 2), "/system.slice/sglcpp.service");
  const char* v1 =
      "9:name=systemd:/\n"
      "4:memory:/process_api/c50cfab4\n"
      "2:cpu,cpuacct:/other\n";
  EXPECT_EQ(cgroup_memory_path(v1, 1), "/process_api/c50cfab4");
  EXPECT_EQ(cgroup_memory_path("5:cpuacct,memory:/k8s/pod1\n", 1), "/k8s/pod1");
  EXPECT_FALSE(cgroup_memory_path("2:cpu,cpuacct:/other\n", 1));
  EXPECT_FALSE(cgroup_memory_path(v1, 2));
}

TEST(CgroupStat, PageCacheByVersion) {
  EXPECT_EQ(cgroup_file_cache_bytes("anon 100\nfile 5000\nkernel 7\n", 2), 5000);
  EXPECT_EQ(cgroup_file_cache_bytes("cache 8249344\nrss 1974272\n", 1), 8249344);
  // Hierarchical totals win over this cgroup's own figure.
  EXPECT_EQ(cgroup_file_cache_bytes("cache 10\nrss 5\ntotal_cache 30\n", 1), 30);
}

TEST(CgroupMemory, V2TakesTheTightestAncestorLimitAndExcludesPageCache) {
  TempDir root;
  root.write("cgroup.controllers", "cpu memory\n");
  root.write("memory.max", "max\n");
  root.write("a/memory.max", std::to_string(4 * kGiB) + "\n");
  root.write("a/b/memory.max", "max\n");
  root.write("a/b/memory.current", std::to_string(kGiB) + "\n");
  root.write("a/b/memory.stat", "anon 536870912\nfile 536870912\n");
  const CgroupMemory m = read_cgroup_memory("0::/a/b\n", root.str());
  EXPECT_EQ(m.version, 2);
  EXPECT_EQ(m.path, "/a/b");
  ASSERT_TRUE(m.limit);
  EXPECT_EQ(*m.limit, 4 * kGiB);
  EXPECT_EQ(m.usage, kGiB / 2);
  EXPECT_EQ(m.room(), 4 * kGiB - kGiB / 2);
}

TEST(CgroupMemory, V1InAContainerWithoutNamespaceReadsTheMountRoot) {
  TempDir root;
  // The host path (/docker/abc) is not under the container's own mount: its root is the cgroup.
  root.write("memory/memory.limit_in_bytes", std::to_string(2 * kGiB) + "\n");
  root.write("memory/memory.usage_in_bytes", std::to_string(kGiB) + "\n");
  root.write("memory/memory.stat", "cache 1073741824\nrss 0\n");
  const CgroupMemory m = read_cgroup_memory("4:memory:/docker/abc\n", root.str());
  EXPECT_EQ(m.version, 1);
  EXPECT_EQ(m.limit, 2 * kGiB);
  EXPECT_EQ(m.usage, 0);  // all of it page cache
}

TEST(CgroupMemory, NoControllerNoLimit) {
  TempDir root;
  const CgroupMemory m = read_cgroup_memory("0::/\n", root.str());
  EXPECT_EQ(m.version, 0);
  EXPECT_FALSE(m.room());
}

TEST(UsableMemory, TheCgroupRoomWhenSmallerThanMemAvailable) {
  SystemInfo s;
  s.mem = MemInfo{64 * kGiB, 60 * kGiB};
  EXPECT_EQ(s.usable_memory(), 60 * kGiB);
  s.cgroup.version = 2;
  s.cgroup.limit = 16 * kGiB;
  s.cgroup.usage = 2 * kGiB;
  EXPECT_EQ(s.usable_memory(), 14 * kGiB);
  s.cgroup.limit = 100 * kGiB;
  EXPECT_EQ(s.usable_memory(), 60 * kGiB);
}

TEST(CpuList, CountsRangesAndSingles) {
  EXPECT_EQ(count_cpu_list("0-3,8,10-11\n"), 7);
  EXPECT_EQ(count_cpu_list("0"), 1);
  EXPECT_EQ(count_cpu_list(""), 0);
  EXPECT_EQ(count_cpu_list("3-1"), 0);
  EXPECT_EQ(count_cpu_list("a-b"), 0);
}

TEST(CpuModel, X86AndArmSpellings) {
  EXPECT_EQ(
      parse_cpu_model("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9654 96-Core\n"),
      "AMD EPYC 9654 96-Core");
  EXPECT_EQ(parse_cpu_model("processor\t: 0\nCPU part\t: 0xd4f\n"), "0xd4f");
  EXPECT_EQ(parse_cpu_model("processor\t: 0\n"), "");
}

}  // namespace
}  // namespace sgl::server::check_env
