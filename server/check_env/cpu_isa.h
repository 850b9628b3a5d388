// The x86 extensions that decide which CPU kernels run: what this CPU has (cpuid, with the OS's
// XSAVE state checked as the kernel does before it lists a flag in /proc/cpuinfo) against what
// this binary was compiled for. The engine picks its kernels at compile time (-march=native sets
// __AVX512BF16__ & co.), so a binary built for an extension the CPU lacks dies with SIGILL, and
// one built without an extension the CPU has runs a slower path.
#pragma once

#include <string>
#include <vector>

namespace sgl::server::check_env {

struct IsaFeature {
  std::string name;    // as /proc/cpuinfo spells it: avx2, avx512f, avx512_bf16, amx_int8...
  bool cpu = false;    // this CPU has it and the OS enabled its register state
  bool built = false;  // this binary's code may use it (the compiler's target macros)
};

// Empty on CPUs other than x86-64.
std::vector<IsaFeature> isa_features();
const IsaFeature* find_feature(const std::vector<IsaFeature>& features, const std::string& name);

// cpuid's hypervisor vendor ("KVMKVMKVM", "Microsoft Hv"...), "" on bare metal.
std::string hypervisor_vendor();

}  // namespace sgl::server::check_env
