// The CUDA driver, GPUs and NCCL as this process finds them at run time: libcuda.so.1,
// libnvidia-ml.so.1 and libnccl.so.2 are dlopen()ed, so a machine without a driver reports
// "no CUDA driver" instead of failing to start (the same binary serves CPU-only machines).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sgl::server::check_env {

struct GpuInfo {
  int index = 0;  // CUDA ordinal (after CUDA_VISIBLE_DEVICES)
  std::string name;
  int cc_major = 0, cc_minor = 0;
  int64_t total_bytes = 0;
  int64_t free_bytes = 0;  // -1 when the device could not be queried (a context failed)
};

struct CudaInfo {
  bool driver = false;         // libcuda.so.1 loaded and cuInit succeeded
  std::string driver_error;    // why not: "libcuda.so.1: cannot open shared object file..."
  int driver_api_version = 0;  // cuDriverGetVersion: 12040 = the newest CUDA the driver runs
  std::string driver_release;  // NVML's "550.54.15"; "" without libnvidia-ml
  std::vector<GpuInfo> gpus;
  bool nccl = false;
  int nccl_version = 0;  // ncclGetVersion: 22005 = 2.20.5 (1000·major + 100·minor + patch before 2.9)
  std::string nccl_error;
};

CudaInfo probe_cuda();

// 12040 → "12.4" (cuDriverGetVersion's and CUDART_VERSION's encoding).
std::string cuda_version_text(int version);
// 22005 → "2.20.5"; 2708 → "2.7.8".
std::string nccl_version_text(int version);

}  // namespace sgl::server::check_env
