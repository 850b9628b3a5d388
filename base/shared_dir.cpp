#include "base/shared_dir.h"

#include <cstdlib>
#include <filesystem>

namespace sgl {

std::string find_shared_dir(const std::string& source_dir) {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("SGL_SHARED_DIR"); env && *env && fs::is_directory(env)) return env;
  for (const char* rel : {"/../shared", "/shared"}) {
    fs::path p = fs::path(source_dir + rel);
    std::error_code ec;
    if (fs::is_directory(p / "models", ec)) return fs::weakly_canonical(p, ec).string();
  }
  return {};
}

}  // namespace sgl
