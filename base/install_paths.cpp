#include "base/install_paths.h"

#include <cstdlib>
#include <filesystem>

// bin/ → share/sglcpp/conf in both the install and the build tree (cmake/Install.cmake).
#ifndef SGL_CONF_RELDIR
#define SGL_CONF_RELDIR "../share/sglcpp/conf"
#endif

namespace sgl {

namespace fs = std::filesystem;

std::string executable_dir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec || exe.empty()) return {};
  return exe.parent_path().string();
}

std::vector<std::string> conf_dirs() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("SGLCPP_CONF_DIR"); env && *env) dirs.emplace_back(env);
  if (std::string exe_dir = executable_dir(); !exe_dir.empty())
    dirs.push_back((fs::path(exe_dir) / SGL_CONF_RELDIR).lexically_normal().string());
  dirs.emplace_back("conf");  // a checkout's working directory (scripts/run.sh runs from there)
  return dirs;
}

}  // namespace sgl
