// cuBLAS, loaded with dlopen on first use instead of linked: sglcpp-server (and its .deb) then
// has no load-time dependency on the CUDA libraries, which are not Debian packages, and starts on
// machines without them (--device cpu); --device cuda names the library it could not load.
#pragma once

#include <cublas_v2.h>

#include "base/result.h"

namespace sgl::engine::cuda {

// The entry points gemm.cpp uses. cublas_v2.h maps some names to their _v2 symbols
// (cublasCreate → cublasCreate_v2); the pointers have the mapped functions' types.
struct CublasLib {
  decltype(&cublasCreate) create = nullptr;
  decltype(&cublasDestroy) destroy = nullptr;
  decltype(&cublasSetStream) set_stream = nullptr;
  decltype(&cublasSetWorkspace) set_workspace = nullptr;
  decltype(&cublasSetMathMode) set_math_mode = nullptr;
  decltype(&cublasGetStatusString) status_string = nullptr;
  // cublasGemmEx has a C++ overload (cudaDataType compute type) in the header: this is the C one.
  using GemmEx = cublasStatus_t (*)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int,
                                    const void*, const void*, cudaDataType, int, const void*, cudaDataType,
                                    int, const void*, void*, cudaDataType, int, cublasComputeType_t,
                                    cublasGemmAlgo_t);
  GemmEx gemm_ex = nullptr;
};
// Compiles only when GemmEx is exactly the exported cublasGemmEx's type (unevaluated: no reference
// to the symbol, which is not linked).
static_assert(sizeof(static_cast<CublasLib::GemmEx>(&cublasGemmEx)) == sizeof(void*));

// Loads libcublas.so.<the major version built against> once (thread-safe), from the loader's
// search path, else from the toolkit's library directory of the build machine. The library stays
// loaded for the life of the process.
Result<const CublasLib*> cublas_lib();

}  // namespace sgl::engine::cuda
