#include "server/check_env/check_env.h"

#include <fmt/format.h>
#include <oneapi/tbb/info.h>

#include <cstdio>
#include <cstdlib>

#include "server/check_env/device_checks.h"
#include "server/check_env/model_fit.h"

namespace sgl::server::check_env {
namespace {

Section build_section(const BuildInfo& b) {
  Section s{"sglcpp", {}};
  s.add("Version", b.version);
  s.add("Git commit", b.commit);
  s.add("Build type", b.build_type);
  s.add("Compiler", b.compiler);
  s.add("CPU target", b.native ? "-march=native (the build machine's extensions)" : "generic x86-64");
  s.add("CUDA backend",
        b.cuda ? fmt::format("compiled in (CUDA {}, architectures {})", b.cuda_toolkit, b.cuda_architectures)
               : "not compiled (no CUDA toolkit at build time)");
  s.add("NCCL", b.nccl ? fmt::format("compiled in ({})", b.nccl_library) : "not compiled");
  s.add("Gloo", fmt::format("{} (TCP; CPU ranks and nodes)", b.gloo));
  s.add("oneTBB", b.tbb);
  // Linked, but the CPU GEMMs are sglcpp's own batch-invariant kernels.
  s.add("oneDNN", b.onednn);
  s.add("BLAS", b.blas.empty() ? "none" : b.blas);
  return s;
}

std::string isa_value(const IsaFeature& f) {
  if (f.cpu) return f.built ? "yes (this build uses it)" : "yes (this build does not use it)";
  return f.built ? "no (but this build was compiled for it)" : "no";
}

Section cpu_section(const Probes& p) {
  const CpuTopology& c = p.system.cpu;
  Section s{"CPU", {}};
  s.add("CPU model", c.model.empty() ? "unknown" : c.model);
  s.add("CPUs online", std::to_string(c.online));
  s.add("CPUs usable", fmt::format("{} (affinity mask), {} oneTBB threads", c.affinity, p.tbb_threads));
  s.add("Physical cores",
        c.physical_cores > 0 ? fmt::format("{} in {} socket(s)", c.physical_cores, c.sockets) : "unknown");
  s.add("NUMA nodes", c.numa_nodes > 0 ? std::to_string(c.numa_nodes) : "unknown");
  if (p.isa.empty()) s.add("ISA", "not x86-64: the CPU kernels use their portable paths");
  for (const auto& f : p.isa) s.add("ISA " + f.name, isa_value(f));
  return s;
}

Section system_section(const Probes& p) {
  const SystemInfo& sys = p.system;
  Section s{"System", {}};
  s.add("OS", sys.os);
  s.add("Hypervisor vendor", p.hypervisor.empty() ? "none (bare metal)" : p.hypervisor);
  s.add("ulimit soft (open files)", std::to_string(sys.open_files_soft));
  s.add("MemTotal", sys.mem ? format_bytes(sys.mem->total) : "unknown");
  s.add("MemAvailable", sys.mem ? format_bytes(sys.mem->available) : "unknown");
  const CgroupMemory& cg = sys.cgroup;
  if (cg.version == 0) {
    s.add("cgroup memory", "no memory controller");
  } else {
    s.add("cgroup memory",
          fmt::format("v{} {}: {}, {} in use", cg.version, cg.path,
                      cg.limit ? "limit " + format_bytes(*cg.limit) : std::string("no limit"),
                      format_bytes(cg.usage)));
  }
  s.add("Memory for a server", format_bytes(sys.usable_memory()));
  return s;
}

Section cuda_section(const Probes& p) {
  const CudaInfo& c = p.cuda;
  Section s{"CUDA", {}};
  if (!c.driver) {
    s.add("CUDA driver", "no CUDA driver (" + c.driver_error + ")");
  } else {
    s.add("CUDA driver", fmt::format("CUDA {}{}", cuda_version_text(c.driver_api_version),
                                     c.driver_release.empty() ? "" : ", driver " + c.driver_release));
  }
  s.add("CUDA runtime", p.build.cuda ? fmt::format("CUDA {} (cudart linked statically)", p.build.cuda_toolkit)
                                     : "none (CPU-only build)");
  if (const char* visible = std::getenv("CUDA_VISIBLE_DEVICES")) s.add("CUDA_VISIBLE_DEVICES", visible);
  if (c.driver) s.add("GPUs", std::to_string(c.gpus.size()));
  for (const auto& g : c.gpus)
    s.add(fmt::format("GPU {}", g.index),
          fmt::format("{}, compute capability {}.{}, {} free of {}", g.name, g.cc_major, g.cc_minor,
                      g.free_bytes >= 0 ? format_bytes(g.free_bytes) : "?", format_bytes(g.total_bytes)));
  s.add("NCCL runtime", c.nccl ? fmt::format("{} (libnccl.so.2)", nccl_version_text(c.nccl_version))
                               : "not found (" + c.nccl_error + ")");
  return s;
}

Section flags_section(const ServerArgs& a) {
  Section s{"Launch flags", {}};
  s.add("Device", a.device);
  s.add("Parallelism", fmt::format("--tp-size {} --ep-size {} --nnodes {} ({} rank(s) per node)", a.tp_size,
                                   a.ep_size, a.nnodes, a.tp_size / std::max(1, a.nnodes)));
  s.add("Model", a.model_path.empty() ? "none given (--model-path)" : a.model_path);
  s.add("Memory flags", fmt::format("--mem-fraction-static {}, --max-total-tokens {}", a.mem_fraction_static,
                                    a.max_total_tokens ? std::to_string(*a.max_total_tokens) : "None"));
  return s;
}

}  // namespace

Probes probe_all() {
  Probes p;
  p.build = build_info();
  p.system = probe_system();
  p.isa = isa_features();
  p.cuda = probe_cuda();
  p.tbb_threads = tbb::info::default_concurrency();
  p.hypervisor = hypervisor_vendor();
  return p;
}

Report build_report(const ParsedArgs& parsed, const BuiltFeatures& built, const Probes& probes) {
  const ServerArgs& a = parsed.args;
  Report r;
  r.sections = {build_section(probes.build), system_section(probes), cpu_section(probes),
                cuda_section(probes), flags_section(a)};
  // What the server itself would refuse before touching a device, in its own words.
  for (const auto& refusal : parsed.refusals) r.findings.push_back(fatal(refusal));
  if (auto st = validate_server_args(a, built); !st.ok()) r.findings.push_back(fatal(st.error().message));

  std::optional<engine::DType> compute;
  if (!a.model_path.empty() && (a.device == "cpu" || a.device == "cuda")) {
    auto model = estimate_model(a);
    if (!model.ok()) {
      r.findings.push_back(fatal(fmt::format("--model-path {}: {}", a.model_path, model.error().message)));
    } else {
      compute = model->compute;
      const SystemInfo& sys = probes.system;
      MemoryView mem;
      mem.usable = sys.usable_memory();
      mem.mem_available = sys.mem ? sys.mem->available : 0;
      mem.cgroup_room = sys.cgroup.room();
      FitResult fit = check_model_fit(*model, a, mem, probes.cuda.gpus);
      r.sections.push_back({"Model", std::move(fit.entries)});
      for (auto& f : fit.findings) r.findings.push_back(std::move(f));
    }
    if (auto tok = check_tokenizer(a)) r.findings.push_back(std::move(*tok));
  }
  for (auto& f : check_devices(a, probes, compute)) r.findings.push_back(std::move(f));
  for (const auto& n : parsed.notes) r.findings.push_back(note(n));
  return r;
}

int run_check_env(const ParsedArgs& parsed, const BuiltFeatures& built) {
  const Report report = build_report(parsed, built, probe_all());
  const std::string out = parsed.args.check_env_json ? render_json(report) : render_text(report);
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  return report.any_fatal() ? 1 : 0;
}

}  // namespace sgl::server::check_env
