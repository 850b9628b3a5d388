// `sglcpp-server --check-env [launch flags]`: SGLang's `python -m sglang.check_env` for this
// engine — the build, the machine, its devices — plus a verdict on the other flags given: each
// setting that would fail here is a FATAL finding and the exit status is 1; notes (slower paths,
// ignored flags, a KV pool below the context length) leave it 0. docs/check-env.md lists them.
#pragma once

#include <string>
#include <vector>

#include "server/args.h"
#include "server/check_env/build_info.h"
#include "server/check_env/cpu_isa.h"
#include "server/check_env/cuda_probe.h"
#include "server/check_env/report.h"
#include "server/check_env/system_probe.h"

namespace sgl::server::check_env {

// Everything measured about this binary and machine; tests pass made-up ones.
struct Probes {
  BuildInfo build;
  SystemInfo system;
  std::vector<IsaFeature> isa;
  CudaInfo cuda;
  int tbb_threads = 0;     // oneTBB's default concurrency: the threads the CPU kernels run on
  std::string hypervisor;  // cpuid's vendor, "" on bare metal
};

Probes probe_all();

// The report for `parsed` (its refusals, notes and validation count as findings) on `probes`.
Report build_report(const ParsedArgs& parsed, const BuiltFeatures& built, const Probes& probes);

// Probes, prints (text, or JSON with --check-env-json) to stdout, returns the exit status.
int run_check_env(const ParsedArgs& parsed, const BuiltFeatures& built);

}  // namespace sgl::server::check_env
