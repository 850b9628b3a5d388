// Locates ../shared (models, golden references) relative to the source tree, for tests and
// benchmarks. Returns an empty string when it is absent so callers can skip with a message.
#pragma once

#include <string>

namespace sgl {

// SGL_SHARED_DIR overrides; else <source dir>/../shared, else <source dir>/shared.
std::string find_shared_dir(const std::string& source_dir);

}  // namespace sgl
