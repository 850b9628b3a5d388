// What this binary is: version, commit, compiler, and which backends and libraries it was built
// with (values fixed at configure time in the generated sgl_build_info.h).
#pragma once

#include <string>
#include <string_view>

namespace sgl::server::check_env {

struct BuildInfo {
  std::string version;
  std::string commit;  // HEAD at the last configure ("unknown" outside a git checkout)
  std::string build_type;
  std::string compiler;
  bool native = false;  // SGL_NATIVE: -march=native of the build machine
  bool cuda = false;    // engine/cuda/ compiled in
  std::string cuda_toolkit;
  std::string cuda_architectures;  // CMAKE_CUDA_ARCHITECTURES: "90a-real 90-virtual"
  bool nccl = false;               // engine/dist/nccl_communicator.cpp compiled in
  std::string nccl_library;
  std::string onednn;
  std::string blas;
  std::string gloo;
  std::string tbb;
};

BuildInfo build_info();

// The lowest compute capability the CUDA kernels were built for, as major·10 + minor (90 for
// "90a-real 90-virtual"); 0 when unknown ("native", "all", empty). A GPU below it cannot run them.
int min_cuda_arch(std::string_view architectures);

}  // namespace sgl::server::check_env
