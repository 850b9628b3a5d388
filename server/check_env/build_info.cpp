#include "server/check_env/build_info.h"

#include <fmt/format.h>
#include <gloo/config.h>
#include <oneapi/dnnl/dnnl_version.h>
#include <oneapi/tbb/version.h>

#include <charconv>

#include "sgl_build_info.h"  // generated (server/check_env/CMakeLists.txt)

namespace sgl::server::check_env {
namespace {

// A CMake cache path that was never found reads "<VAR>-NOTFOUND".
std::string found_or_empty(std::string_view v) {
  return v.ends_with("NOTFOUND") ? std::string() : std::string(v);
}

}  // namespace

BuildInfo build_info() {
  BuildInfo b;
  b.version = SGL_BUILD_VERSION;
  b.commit = SGL_BUILD_GIT_COMMIT;
  b.build_type = SGL_BUILD_TYPE;
  b.compiler = SGL_BUILD_COMPILER;
  const std::string_view native = SGL_BUILD_NATIVE;
  b.native = native == "ON" || native == "1" || native == "TRUE";
#if SGL_HAVE_CUDA
  b.cuda = true;
  b.cuda_toolkit = SGL_BUILD_CUDA_TOOLKIT;
  b.cuda_architectures = SGL_BUILD_CUDA_ARCHITECTURES;
#endif
#if SGL_HAVE_NCCL
  b.nccl = true;
  b.nccl_library = found_or_empty(SGL_BUILD_NCCL);
#endif
  // Both are linked but off the hot path: the CPU GEMMs are sglcpp's own batch-invariant kernels.
  b.onednn = fmt::format("{}.{}.{} ({})", DNNL_VERSION_MAJOR, DNNL_VERSION_MINOR, DNNL_VERSION_PATCH,
                         found_or_empty(SGL_BUILD_DNNL));
  b.blas = found_or_empty(SGL_BUILD_BLAS);
  b.gloo = fmt::format("{}.{}.{}", GLOO_VERSION_MAJOR, GLOO_VERSION_MINOR, GLOO_VERSION_PATCH);
  b.tbb = fmt::format("{} (runtime {})", TBB_VERSION_STRING, TBB_runtime_version());
  return b;
}

int min_cuda_arch(std::string_view architectures) {
  int best = 0;
  while (!architectures.empty()) {
    const size_t sep = architectures.find_first_of(" ;");
    const std::string_view item = architectures.substr(0, sep);
    int arch = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), arch);
    if (ec == std::errc() && end != item.data() && (best == 0 || arch < best)) best = arch;
    if (sep == std::string_view::npos) break;
    architectures.remove_prefix(sep + 1);
  }
  return best;
}

}  // namespace sgl::server::check_env
