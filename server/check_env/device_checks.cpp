#include "server/check_env/device_checks.h"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace sgl::server::check_env {
namespace {

void check_isa(std::vector<Finding>& out, const ServerArgs& a, const Probes& p,
               std::optional<engine::DType> compute) {
  for (const auto& f : p.isa)
    if (f.built && !f.cpu)
      out.push_back(fatal(fmt::format(
          "this binary was compiled for {} (the build machine's -march), which this CPU lacks: it would stop "
          "with an illegal instruction; rebuild on this machine (scripts/build.sh) or with -DSGL_NATIVE=OFF",
          f.name)));
  const IsaFeature* bf16 = find_feature(p.isa, "avx512_bf16");
  if (a.device != "cpu" || !bf16 || compute != engine::DType::kBF16) return;
  if (!bf16->cpu)
    out.push_back(note(
        "this CPU has no AVX512-BF16: bf16 weights run the slower path (each weight widened to fp32 before "
        "the FMA) instead of vdpbf16ps"));
  else if (!bf16->built)
    out.push_back(note(
        "this CPU has AVX512-BF16 but this binary was built without it: bf16 weights run the slower fp32 "
        "path; rebuild here with -DSGL_NATIVE=ON (the default) for vdpbf16ps"));
}

void check_cpu_ranks(std::vector<Finding>& out, const ServerArgs& a, const Probes& p) {
  const int cpus = p.tbb_threads > 0 ? p.tbb_threads : p.system.cpu.affinity;
  const int ranks = a.tp_size / std::max(1, a.nnodes);
  if (cpus <= 0 || ranks <= cpus) return;
  // engine/dist/tp_runner.cpp gives each rank max(1, cores / ranks) threads.
  out.push_back(note(fmt::format(
      "--tp-size {} puts {} ranks on this node's {} usable CPUs: tp-size x threads per rank ({} x 1) exceeds "
      "the cores, so ranks time-share CPUs and every collective waits on the slowest; use at most {} ranks "
      "per node",
      a.tp_size, ranks, cpus, ranks, cpus)));
}

// "13.0.48" → 13000 (cuDriverGetVersion's encoding); 0 when unknown.
int toolkit_version(const std::string& v) {
  int major = 0, minor = 0;
  if (std::sscanf(v.c_str(), "%d.%d", &major, &minor) < 1) return 0;
  return major * 1000 + minor * 10;
}

void check_cuda(std::vector<Finding>& out, const ServerArgs& a, const Probes& p) {
  const CudaInfo& c = p.cuda;
  if (!c.driver) {
    out.push_back(fatal("--device cuda: no CUDA driver (" + c.driver_error + ")"));
    return;
  }
  const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
  if (c.gpus.empty()) {
    out.push_back(fatal(fmt::format("--device cuda: the CUDA driver sees no GPU{}",
                                    visible ? fmt::format(" (CUDA_VISIBLE_DEVICES={})", visible) : "")));
    return;
  }
  if (a.tp_size > int(c.gpus.size()))
    out.push_back(fatal(
        fmt::format("--tp-size {} needs {} GPUs; this machine has {}", a.tp_size, a.tp_size, c.gpus.size())));
  if (a.tp_size > 1 || a.nnodes > 1)
    out.push_back(fatal("--device cuda runs on one GPU (--tp-size 1, --nnodes 1) so far"));
  const GpuInfo& g = c.gpus.front();
  const int arch = min_cuda_arch(p.build.cuda_architectures);
  if (arch > 0 && g.cc_major * 10 + g.cc_minor < arch)
    out.push_back(fatal(fmt::format(
        "GPU {} ({}) has compute capability {}.{}; this binary's CUDA kernels are built for {}.{} and up "
        "(CMAKE_CUDA_ARCHITECTURES {})",
        g.index, g.name, g.cc_major, g.cc_minor, arch / 10, arch % 10, p.build.cuda_architectures)));
  const int runtime = toolkit_version(p.build.cuda_toolkit);
  if (runtime > 0 && c.driver_api_version > 0) {
    if (c.driver_api_version / 1000 < runtime / 1000)
      out.push_back(
          fatal(fmt::format("the CUDA driver supports CUDA {}, older than the CUDA {} runtime this binary "
                            "links: update the driver",
                            cuda_version_text(c.driver_api_version), cuda_version_text(runtime))));
    else if (c.driver_api_version < runtime)
      out.push_back(note(fmt::format(
          "the CUDA driver supports CUDA {}, the runtime is CUDA {}: minor-version compatibility applies "
          "(PTX built for the newer toolkit cannot be JIT-compiled)",
          cuda_version_text(c.driver_api_version), cuda_version_text(runtime))));
  }
}

}  // namespace

std::vector<Finding> check_devices(const ServerArgs& a, const Probes& p,
                                   std::optional<engine::DType> compute) {
  std::vector<Finding> out;
  check_isa(out, a, p, compute);
  if (a.device == "cpu") check_cpu_ranks(out, a, p);
  // Without the backend compiled in, validate_server_args has said so already.
  if (a.device == "cuda" && p.build.cuda) check_cuda(out, a, p);
  return out;
}

std::optional<Finding> check_tokenizer(const ServerArgs& a) {
  namespace fs = std::filesystem;
  const std::string& dir = a.tokenizer_path.empty() ? a.model_path : a.tokenizer_path;
  std::error_code ec;
  if (dir.ends_with(".tok.json") && fs::is_regular_file(dir, ec)) return std::nullopt;
  for (const char* f : {"tokenizer.json", "qwen.tiktoken", "tokenizer.tok.json"})
    if (fs::exists(fs::path(dir) / f, ec)) return std::nullopt;
  return fatal(fmt::format(
      "--tokenizer-path {}: no tokenizer.json (nor qwen.tiktoken, tokenizer.tok.json) there{}", dir,
      fs::is_directory(dir, ec) ? "" : "; a conf/models preset has no tokenizer: pass --tokenizer-path DIR"));
}

}  // namespace sgl::server::check_env
