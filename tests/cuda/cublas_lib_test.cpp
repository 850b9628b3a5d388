// cuBLAS is loaded at run time (engine/cuda/cublas_lib.h), so nothing is linked against it: the
// library and every entry point gemm.cpp calls must resolve. Needs no GPU, only the toolkit's
// libcublas, which a build with the CUDA backend has.
#include "engine/cuda/cublas_lib.h"

#include <gtest/gtest.h>

#include <string>

namespace sgl::engine::cuda {
namespace {

TEST(CublasLib, LoadsEveryEntryPointOnce) {
  auto lib = cublas_lib();
  ASSERT_TRUE(lib.ok()) << lib.error().message;
  const CublasLib& l = **lib;
  EXPECT_NE(l.create, nullptr);
  EXPECT_NE(l.destroy, nullptr);
  EXPECT_NE(l.set_stream, nullptr);
  EXPECT_NE(l.set_workspace, nullptr);
  EXPECT_NE(l.set_math_mode, nullptr);
  EXPECT_NE(l.gemm_ex, nullptr);
  ASSERT_NE(l.status_string, nullptr);
  // A real call into the library: its own names for two statuses ("success", ...).
  const std::string ok = l.status_string(CUBLAS_STATUS_SUCCESS);
  EXPECT_FALSE(ok.empty());
  EXPECT_NE(ok, l.status_string(CUBLAS_STATUS_NOT_INITIALIZED));
  auto again = cublas_lib();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *lib) << "loaded once";
}

}  // namespace
}  // namespace sgl::engine::cuda
