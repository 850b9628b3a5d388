// Run-time files are found relative to the executable (a moved install tree keeps working), with
// SGLCPP_CONF_DIR first, and the build tree mirrors the install layout (build/share/sglcpp/conf).
#include "base/install_paths.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

namespace sgl {
namespace {

namespace fs = std::filesystem;

TEST(InstallPaths, ExecutableDirIsThisTestsDirectory) {
  EXPECT_EQ(fs::path(executable_dir()), fs::canonical("/proc/self/exe").parent_path());
}

TEST(InstallPaths, ConfDirsAreExecutableRelativeAndTheBuildTreeHasThePresets) {
  unsetenv("SGLCPP_CONF_DIR");
  auto dirs = conf_dirs();
  ASSERT_EQ(dirs.size(), 2u);
  EXPECT_EQ(fs::path(dirs[0]), (fs::path(executable_dir()).parent_path() / "share/sglcpp/conf"));
  EXPECT_EQ(dirs[1], "conf");
  // build/bin/test_base → build/share/sglcpp/conf → the source tree's conf/ (cmake/Install.cmake).
  EXPECT_TRUE(fs::is_regular_file(fs::path(dirs[0]) / "models/qwen3-0.6b.json")) << dirs[0];
}

TEST(InstallPaths, EnvironmentOverrideComesFirst) {
  setenv("SGLCPP_CONF_DIR", "/opt/elsewhere/conf", 1);
  auto dirs = conf_dirs();
  unsetenv("SGLCPP_CONF_DIR");
  ASSERT_EQ(dirs.size(), 3u);
  EXPECT_EQ(dirs[0], "/opt/elsewhere/conf");
}

}  // namespace
}  // namespace sgl
