#include "server/check_env/cpu_isa.h"

#include <cstdint>
#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#define SGL_CHECK_ENV_X86 1
#endif

namespace sgl::server::check_env {
namespace {

#if SGL_CHECK_ENV_X86
struct Regs {
  uint32_t a = 0, b = 0, c = 0, d = 0;
};

Regs cpuid(uint32_t leaf, uint32_t sub) {
  Regs r;
  if (!__get_cpuid_count(leaf, sub, &r.a, &r.b, &r.c, &r.d)) return {};
  return r;
}

// The compiler's target macros: what -march let this binary's code use.
struct Built {
  bool fma = false;
  bool avx2 = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512_vnni = false;
  bool avx512_bf16 = false;
  bool avx512_fp16 = false;
  bool avx_vnni = false;
  bool amx_tile = false;
  bool amx_bf16 = false;
  bool amx_int8 = false;
};
constexpr Built kBuilt = {
#ifdef __FMA__
    .fma = true,
#endif
#ifdef __AVX2__
    .avx2 = true,
#endif
#ifdef __AVX512F__
    .avx512f = true,
#endif
#ifdef __AVX512BW__
    .avx512bw = true,
#endif
#ifdef __AVX512VL__
    .avx512vl = true,
#endif
#ifdef __AVX512VNNI__
    .avx512_vnni = true,
#endif
#ifdef __AVX512BF16__
    .avx512_bf16 = true,
#endif
#ifdef __AVX512FP16__
    .avx512_fp16 = true,
#endif
#ifdef __AVXVNNI__
    .avx_vnni = true,
#endif
#ifdef __AMX_TILE__
    .amx_tile = true,
#endif
#ifdef __AMX_BF16__
    .amx_bf16 = true,
#endif
#ifdef __AMX_INT8__
    .amx_int8 = true,
#endif
};

bool bit(uint32_t v, int n) { return (v >> n) & 1u; }

// XCR0: which register files the OS saves on a context switch (no save, no use).
uint64_t xcr0() {
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t(hi) << 32) | lo;
}
#endif

}  // namespace

std::vector<IsaFeature> isa_features() {
  std::vector<IsaFeature> out;
#if SGL_CHECK_ENV_X86
  const Regs l1 = cpuid(1, 0), l7 = cpuid(7, 0), l71 = cpuid(7, 1);
  const uint64_t xcr = bit(l1.c, 27) ? xcr0() : 0;  // OSXSAVE: xgetbv is usable
  const bool ymm = (xcr & 0x6) == 0x6;              // SSE + AVX state
  const bool zmm = ymm && (xcr & 0xe0) == 0xe0;     // opmask + upper ZMM halves + ZMM16-31
  const bool tiles = (xcr & 0x60000) == 0x60000;    // XTILECFG + XTILEDATA
  auto add = [&](const char* name, bool cpu, bool built) { out.push_back({name, cpu, built}); };
  add("fma", ymm && bit(l1.c, 12), kBuilt.fma);
  add("avx2", ymm && bit(l7.b, 5), kBuilt.avx2);
  add("avx512f", zmm && bit(l7.b, 16), kBuilt.avx512f);
  add("avx512bw", zmm && bit(l7.b, 30), kBuilt.avx512bw);
  add("avx512vl", zmm && bit(l7.b, 31), kBuilt.avx512vl);
  add("avx512_vnni", zmm && bit(l7.c, 11), kBuilt.avx512_vnni);
  add("avx512_bf16", zmm && bit(l71.a, 5), kBuilt.avx512_bf16);
  add("avx512_fp16", zmm && bit(l7.d, 23), kBuilt.avx512_fp16);
  add("avx_vnni", ymm && bit(l71.a, 4), kBuilt.avx_vnni);
  add("amx_tile", tiles && bit(l7.d, 24), kBuilt.amx_tile);
  add("amx_bf16", tiles && bit(l7.d, 22), kBuilt.amx_bf16);
  add("amx_int8", tiles && bit(l7.d, 25), kBuilt.amx_int8);
#endif
  return out;
}

const IsaFeature* find_feature(const std::vector<IsaFeature>& features, const std::string& name) {
  for (const auto& f : features)
    if (f.name == name) return &f;
  return nullptr;
}

std::string hypervisor_vendor() {
#if SGL_CHECK_ENV_X86
  if (!bit(cpuid(1, 0).c, 31)) return "";
  // Leaf 0x40000000 is outside the range __get_cpuid checks against; a hypervisor answers it.
  uint32_t a = 0, b = 0, c = 0, d = 0;
  __cpuid(0x40000000, a, b, c, d);
  char vendor[13] = {};
  std::memcpy(vendor, &b, 4);
  std::memcpy(vendor + 4, &c, 4);
  std::memcpy(vendor + 8, &d, 4);
  std::string v(vendor);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\0')) v.pop_back();
  return v.empty() ? "unknown" : v;
#else
  return "";
#endif
}

}  // namespace sgl::server::check_env
