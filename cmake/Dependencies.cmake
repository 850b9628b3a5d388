# Every dependency is a Debian bookworm package installed by scripts/setup.sh.
find_package(Threads REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(TBB REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(simdjson REQUIRED)
find_package(OpenMP)

# GEMMs: oneDNN (bf16 on AVX512-BF16/AMX), OpenBLAS as fp32 fallback.
# (Debian's dnnl-config.cmake requires OpenCL headers; the library itself does not.)
find_library(DNNL_LIB NAMES dnnl)
find_path(DNNL_INCLUDE NAMES oneapi/dnnl/dnnl.hpp)
if(DNNL_LIB AND DNNL_INCLUDE)
  add_library(DNNL::dnnl UNKNOWN IMPORTED)
  set_target_properties(DNNL::dnnl PROPERTIES IMPORTED_LOCATION ${DNNL_LIB}
                                              INTERFACE_INCLUDE_DIRECTORIES ${DNNL_INCLUDE})
else()
  message(FATAL_ERROR "oneDNN not found: run scripts/setup.sh (libdnnl-dev)")
endif()
find_package(BLAS REQUIRED)
# Collectives between CPU ranks / across nodes (tensor parallelism): Debian's libgloo-dev (TCP).
find_package(Gloo CONFIG REQUIRED PATHS /usr/share/cmake/Gloo)

if(NOT SGL_ENGINE_ONLY)
  find_package(Boost 1.81 REQUIRED)
  find_package(CLI11 CONFIG REQUIRED)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
  pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)
endif()

if(SGL_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
if(SGL_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
