// The connection cap fits under the open-files limit (server/open_files.h).
#include "server/open_files.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

namespace sgl::server {
namespace {

TEST(OpenFiles, CapLeavesRoomForTheServersOwnDescriptors) {
  EXPECT_EQ(connections_under_limit(4096, 1024), 1024 - kReservedDescriptors);
  EXPECT_EQ(connections_under_limit(100, 1024), 100u);
  EXPECT_EQ(connections_under_limit(4096, RLIM_INFINITY), 4096u);
  EXPECT_EQ(connections_under_limit(4096, 10), 1u);  // never zero
}

TEST(OpenFiles, PlanRaisesTheSoftLimitToTheHardOne) {
  rlimit before{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &before), 0);
  const OpenFilesPlan p = plan_open_files(1u << 30);
  rlimit after{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &after), 0);
  EXPECT_EQ(after.rlim_cur, after.rlim_max);
  EXPECT_EQ(p.soft_limit, after.rlim_cur);
  EXPECT_EQ(p.max_connections, connections_under_limit(1u << 30, after.rlim_cur));
}

}  // namespace
}  // namespace sgl::server
