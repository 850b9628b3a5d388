#include "engine/cuda/cublas_lib.h"

#include <dlfcn.h>
#include <fmt/format.h>

#include <string>
#include <type_traits>

namespace sgl::engine::cuda {

namespace {

// The symbol name after cublas_v2.h's macros (cublasCreate → "cublasCreate_v2").
#define SGL_CUBLAS_SYMBOL_NAME2(f) #f
#define SGL_CUBLAS_SYMBOL_NAME(f) SGL_CUBLAS_SYMBOL_NAME2(f)

Result<const CublasLib*> load() {
  const std::string soname = fmt::format("libcublas.so.{}", CUBLAS_VER_MAJOR);
  void* h = dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
  std::string first_error = h ? "" : dlerror();
#ifdef SGL_CUDA_LIB_DIR
  if (!h) h = dlopen((std::string(SGL_CUDA_LIB_DIR) + "/" + soname).c_str(), RTLD_NOW | RTLD_LOCAL);
#endif
  if (!h)
    return not_found(
        fmt::format("--device cuda needs {} (CUDA {} cuBLAS) on the library search path "
                    "(LD_LIBRARY_PATH or ldconfig): {}",
                    soname, CUBLAS_VER_MAJOR, first_error));
  static CublasLib lib;
  std::string missing;
  auto bind = [&](auto& fn, const char* name) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(h, name));
    if (!fn) missing += std::string(missing.empty() ? "" : ", ") + name;
  };
  bind(lib.create, SGL_CUBLAS_SYMBOL_NAME(cublasCreate));
  bind(lib.destroy, SGL_CUBLAS_SYMBOL_NAME(cublasDestroy));
  bind(lib.set_stream, SGL_CUBLAS_SYMBOL_NAME(cublasSetStream));
  bind(lib.set_workspace, SGL_CUBLAS_SYMBOL_NAME(cublasSetWorkspace));
  bind(lib.set_math_mode, SGL_CUBLAS_SYMBOL_NAME(cublasSetMathMode));
  bind(lib.status_string, SGL_CUBLAS_SYMBOL_NAME(cublasGetStatusString));
  bind(lib.gemm_ex, SGL_CUBLAS_SYMBOL_NAME(cublasGemmEx));
  if (!missing.empty()) return not_found(fmt::format("{} lacks {}", soname, missing));
  return &lib;
}

}  // namespace

Result<const CublasLib*> cublas_lib() {
  static const Result<const CublasLib*> loaded = load();  // once; later calls see the same answer
  return loaded;
}

}  // namespace sgl::engine::cuda
