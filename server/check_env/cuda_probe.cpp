#include "server/check_env/cuda_probe.h"

#include <dlfcn.h>
#include <fmt/format.h>

#include <cstddef>

namespace sgl::server::check_env {
namespace {

// The few driver-API entry points used, with the ABI of cuda.h (CUdevice is an int, CUcontext
// and the NVML device a pointer, results an int enum). No CUDA header is needed to build this.
using CUresult = int;
using CUdevice = int;
using CUcontext = void*;
constexpr int kAttrComputeCapabilityMajor = 75;  // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
constexpr int kAttrComputeCapabilityMinor = 76;

struct Driver {
  CUresult (*init)(unsigned) = nullptr;
  CUresult (*driver_version)(int*) = nullptr;
  CUresult (*device_count)(int*) = nullptr;
  CUresult (*device_get)(CUdevice*, int) = nullptr;
  CUresult (*device_name)(char*, int, CUdevice) = nullptr;
  CUresult (*device_attribute)(int*, int, CUdevice) = nullptr;
  CUresult (*device_total_mem)(size_t*, CUdevice) = nullptr;
  CUresult (*primary_ctx_retain)(CUcontext*, CUdevice) = nullptr;
  CUresult (*primary_ctx_release)(CUdevice) = nullptr;
  CUresult (*ctx_set_current)(CUcontext) = nullptr;
  CUresult (*mem_get_info)(size_t*, size_t*) = nullptr;
  CUresult (*error_string)(CUresult, const char**) = nullptr;

  std::string error(CUresult r) const {
    const char* s = nullptr;
    if (error_string && error_string(r, &s) == 0 && s) return fmt::format("{} (CUresult {})", s, r);
    return fmt::format("CUresult {}", r);
  }
};

template <class F>
bool load(void* lib, const char* name, F& fn) {
  fn = reinterpret_cast<F>(dlsym(lib, name));
  return fn != nullptr;
}

// Libraries stay loaded for the life of the process: the CUDA driver starts threads that must not
// outlive its code, and this process exits right after the report anyway.
void* open_library(const char* name, std::string& error) {
  void* lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* e = dlerror();
    error = e ? e : fmt::format("{}: cannot be loaded", name);
  }
  return lib;
}

// Free memory needs a context: the primary one, as the engine's runtime uses, released after.
int64_t free_memory(const Driver& d, CUdevice dev) {
  CUcontext ctx = nullptr;
  if (d.primary_ctx_retain(&ctx, dev) != 0) return -1;
  size_t free_b = 0, total_b = 0;
  const bool ok = d.ctx_set_current(ctx) == 0 && d.mem_get_info(&free_b, &total_b) == 0;
  d.ctx_set_current(nullptr);
  d.primary_ctx_release(dev);
  return ok ? int64_t(free_b) : -1;
}

void probe_driver(CudaInfo& out) {
  void* lib = open_library("libcuda.so.1", out.driver_error);
  if (!lib) return;
  Driver d;
  const bool all =
      load(lib, "cuInit", d.init) && load(lib, "cuDriverGetVersion", d.driver_version) &&
      load(lib, "cuDeviceGetCount", d.device_count) && load(lib, "cuDeviceGet", d.device_get) &&
      load(lib, "cuDeviceGetName", d.device_name) && load(lib, "cuDeviceGetAttribute", d.device_attribute) &&
      load(lib, "cuDeviceTotalMem_v2", d.device_total_mem) &&
      load(lib, "cuDevicePrimaryCtxRetain", d.primary_ctx_retain) &&
      (load(lib, "cuDevicePrimaryCtxRelease_v2", d.primary_ctx_release) ||
       load(lib, "cuDevicePrimaryCtxRelease", d.primary_ctx_release)) &&
      load(lib, "cuCtxSetCurrent", d.ctx_set_current) && load(lib, "cuMemGetInfo_v2", d.mem_get_info);
  load(lib, "cuGetErrorString", d.error_string);
  if (!all) {
    out.driver_error = "libcuda.so.1 lacks a driver API entry point (a driver older than CUDA 11?)";
    return;
  }
  d.driver_version(&out.driver_api_version);  // works before cuInit
  if (CUresult r = d.init(0); r != 0) {
    out.driver_error = "cuInit failed: " + d.error(r);
    return;
  }
  out.driver = true;
  int n = 0;
  if (d.device_count(&n) != 0) n = 0;
  for (int i = 0; i < n; ++i) {
    CUdevice dev = 0;
    if (d.device_get(&dev, i) != 0) continue;
    GpuInfo g;
    g.index = i;
    char name[256] = {};
    if (d.device_name(name, sizeof(name) - 1, dev) == 0) g.name = name;
    d.device_attribute(&g.cc_major, kAttrComputeCapabilityMajor, dev);
    d.device_attribute(&g.cc_minor, kAttrComputeCapabilityMinor, dev);
    size_t total = 0;
    if (d.device_total_mem(&total, dev) == 0) g.total_bytes = int64_t(total);
    g.free_bytes = free_memory(d, dev);
    out.gpus.push_back(std::move(g));
  }
}

// The driver's release number ("550.54.15"), which only NVML reports.
void probe_nvml(CudaInfo& out) {
  std::string ignored;
  void* lib = open_library("libnvidia-ml.so.1", ignored);
  if (!lib) return;
  int (*init)() = nullptr;
  int (*version)(char*, unsigned) = nullptr;
  int (*shutdown)() = nullptr;
  if (!(load(lib, "nvmlInit_v2", init) && load(lib, "nvmlSystemGetDriverVersion", version) &&
        load(lib, "nvmlShutdown", shutdown)))
    return;
  if (init() != 0) return;
  char buf[96] = {};
  if (version(buf, sizeof(buf)) == 0) out.driver_release = buf;
  shutdown();
}

void probe_nccl(CudaInfo& out) {
  void* lib = open_library("libnccl.so.2", out.nccl_error);
  if (!lib) return;
  int (*get_version)(int*) = nullptr;
  if (!load(lib, "ncclGetVersion", get_version)) {
    out.nccl_error = "libnccl.so.2 has no ncclGetVersion";
    return;
  }
  if (get_version(&out.nccl_version) != 0) {
    out.nccl_error = "ncclGetVersion failed";
    return;
  }
  out.nccl = true;
}

}  // namespace

std::string cuda_version_text(int v) { return fmt::format("{}.{}", v / 1000, (v % 1000) / 10); }

std::string nccl_version_text(int v) {
  if (v >= 10000) return fmt::format("{}.{}.{}", v / 10000, (v % 10000) / 100, v % 100);
  return fmt::format("{}.{}.{}", v / 1000, (v % 1000) / 100, v % 100);
}

CudaInfo probe_cuda() {
  CudaInfo out;
  probe_driver(out);
  if (out.driver) probe_nvml(out);
  probe_nccl(out);
  return out;
}

}  // namespace sgl::server::check_env
