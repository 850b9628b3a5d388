// Micro-benchmarks of the CPU kernels (Google Benchmark).
//
// GEMM cases use qwen3-0.6b's shapes (hidden 1024, 16/8 heads of 128, intermediate 3072) and
// rotate through enough weight copies (> 512 MB) that every call streams its weights from DRAM,
// as a decode step does; "bytes_per_second" counts weight bytes only, to be read against the
// BM_ReadBandwidth case of the same run (decode GEMV should approach it: it is bandwidth bound).
//   build/bin/bench_kernels --benchmark_filter='ReadBandwidth|Linear'
#include <benchmark/benchmark.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <random>
#include <thread>
#include <vector>

#include "engine/cpu/gemm_amx.h"
#include "engine/cpu/kernels.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace sgl::engine::cpu {
namespace {

constexpr int64_t kStreamBytes = int64_t{768} << 20;  // bigger than any last-level cache

// CPU seconds of the whole process (all threads): on a shared, oversubscribed machine the
// compute-bound rates below are reported per CPU-second, which other load does not distort.
double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// Reads a 768 MB buffer with all cores (AVX-512 loads, xor-reduced so nothing is elided).
void BM_ReadBandwidth(benchmark::State& state) {
  const int64_t n = kStreamBytes / 8;
  std::vector<uint64_t> buf(static_cast<size_t>(n));
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, n), [&](const tbb::blocked_range<int64_t>& r) {
    for (int64_t i = r.begin(); i < r.end(); ++i) buf[i] = static_cast<uint64_t>(i);
  });
  const double cpu0 = process_cpu_seconds();
  for (auto _ : state) {
    uint64_t x = tbb::parallel_reduce(
        tbb::blocked_range<int64_t>(0, n, 1 << 16), uint64_t{0},
        [&](const tbb::blocked_range<int64_t>& r, uint64_t acc) {
#if defined(__AVX512F__)
          __m512i a = _mm512_setzero_si512();
          for (int64_t i = r.begin(); i + 8 <= r.end(); i += 8)
            a = _mm512_xor_si512(a, _mm512_loadu_si512(&buf[i]));
          return acc ^ static_cast<uint64_t>(_mm512_reduce_or_epi64(a));
#else
          for (int64_t i = r.begin(); i < r.end(); ++i) acc ^= buf[i];
          return acc;
#endif
        },
        [](uint64_t a, uint64_t b) { return a ^ b; });
    benchmark::DoNotOptimize(x);
  }
  state.SetBytesProcessed(state.iterations() * kStreamBytes);
  state.counters["GB_per_cpu_s"] =
      static_cast<double>(state.iterations()) * kStreamBytes * 1e-9 / (process_cpu_seconds() - cpu0);
}
BENCHMARK(BM_ReadBandwidth)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Memcpy(benchmark::State& state) {
  const size_t n = static_cast<size_t>(kStreamBytes / 2);
  std::vector<char> a(n, 1), b(n, 2);
  for (auto _ : state) {
    tbb::parallel_for(tbb::blocked_range<size_t>(0, n, 1 << 22), [&](const tbb::blocked_range<size_t>& r) {
      std::memcpy(b.data() + r.begin(), a.data() + r.begin(), r.size());
    });
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(n) * 2);  // read + write
}
BENCHMARK(BM_Memcpy)->Unit(benchmark::kMillisecond)->UseRealTime();

// The compute peaks GEMM rates are read against: every core runs a loop of independent
// multiply-adds with nothing else (no loads), one std::thread per core. vdpbf16ps: 12
// accumulators of 16 fp32 lanes, 32 multiply-adds each per instruction; AMX: TDPBF16PS into four
// 16×16 fp32 tiles from resident 16×32 bf16 tiles, 16·16·32 multiply-adds per instruction.
template <class Loop>
double all_cores_gflops(int64_t flop_per_iter, Loop loop) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  constexpr int64_t kIters = 2'000'000;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < cores; ++c) threads.emplace_back([&] { loop(kIters); });
  for (auto& t : threads) t.join();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return static_cast<double>(cores) * kIters * static_cast<double>(flop_per_iter) / s * 1e-9;
}

void BM_PeakVdpbf16ps(benchmark::State& state) {
#if defined(__AVX512BF16__)
  double gflops = 0;
  for (auto _ : state) {
    gflops = all_cores_gflops(12 * 16 * 2 * 2, [](int64_t iters) {
      __m512 acc[12];
      for (auto& a : acc) a = _mm512_setzero_ps();
      const __m512bh x = (__m512bh)_mm512_set1_epi16(0x3f80), y = (__m512bh)_mm512_set1_epi16(0x3f00);
      for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 12
        for (int a = 0; a < 12; ++a) acc[a] = _mm512_dpbf16_ps(acc[a], x, y);
      }
      float sink = 0;
      for (auto& a : acc) sink += _mm512_reduce_add_ps(a);
      benchmark::DoNotOptimize(sink);
    });
  }
  state.counters["GFLOPS"] = gflops;
#else
  state.SkipWithError("built without AVX512-BF16");
#endif
}
BENCHMARK(BM_PeakVdpbf16ps)->Iterations(3)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_PeakAmxBf16(benchmark::State& state) {
#if defined(__AMX_TILE__) && defined(__AMX_BF16__)
  if (!amx_available()) {
    state.SkipWithError("AMX is not available (CPU, OS permission or SGLCPP_DISABLE_AMX)");
    return;
  }
  double gflops = 0;
  for (auto _ : state) {
    gflops = all_cores_gflops(4 * 16 * 16 * 32 * 2,
                              [](int64_t iters) {
                                struct alignas(64) {
                                  uint8_t palette = 1, start_row = 0, reserved[14] = {};
                                  uint16_t colsb[16] = {};
                                  uint8_t rows[16] = {};
                                } cfg;
                                for (int t = 0; t < 8; ++t) cfg.colsb[t] = 64, cfg.rows[t] = 16;
                                _tile_loadconfig(&cfg);
                                alignas(64) static const uint16_t ones[16 * 32] = {};
                                _tile_loadd(0, ones, 64);
                                _tile_loadd(1, ones, 64);
                                _tile_loadd(2, ones, 64);
                                _tile_loadd(3, ones, 64);
                                _tile_zero(4);  // (the tile number must be a constant)
                                _tile_zero(5);
                                _tile_zero(6);
                                _tile_zero(7);
                                for (int64_t i = 0; i < iters / 16;
                                     ++i) {  // 16× fewer: each instruction is 16384 FLOP·2
                                  _tile_dpbf16ps(4, 0, 2);
                                  _tile_dpbf16ps(5, 0, 3);
                                  _tile_dpbf16ps(6, 1, 2);
                                  _tile_dpbf16ps(7, 1, 3);
                                }
                                alignas(64) float out[16][16];
                                _tile_stored(4, out, 64);
                                benchmark::DoNotOptimize(out[0][0]);
                                _tile_release();
                              }) /
             16;
  }
  state.counters["GFLOPS"] = gflops;
#else
  state.SkipWithError("built without AMX");
#endif
}
BENCHMARK(BM_PeakAmxBf16)->Iterations(3)->Unit(benchmark::kMillisecond)->UseRealTime();

// args: M, N, K, weight dtype (0 f32, 1 bf16, 2 bf16 laid out in output lanes, 3 bf16 in AMX
// tiles: what the models use on a CPU with AMX).
void BM_Linear(benchmark::State& state) {
  const int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  const DType dt = state.range(3) ? DType::kBF16 : DType::kF32;
  const bool lanes = state.range(3) == 2, amx = state.range(3) == 3;
  if (amx && !amx_available()) {
    state.SkipWithError("AMX is not available");
    return;
  }
  const int64_t wbytes = n * k * dtype_size(dt);
  // Decode-sized M streams weights from DRAM as a real step does; large M is compute-bound.
  const int copies = m >= 64 ? 1 : static_cast<int>(std::max<int64_t>(1, kStreamBytes / wbytes));
  auto w = random_floats(static_cast<size_t>(n * k), 1);
  std::vector<PackedWeight> ws;
  for (int c = 0; c < copies; ++c) {
    ws.push_back(PackedWeight::pack(w.data(), DType::kF32, n, k, dt));
    if (lanes) ws.back().use_output_lanes();
    if (amx) ws.back().use_amx_tiles();
  }
  auto x = random_floats(static_cast<size_t>(m * k), 2);
  std::vector<float> y(static_cast<size_t>(m * n));
  int c = 0;
  const double cpu0 = process_cpu_seconds();
  for (auto _ : state) {
    linear(x.data(), m, ws[c], nullptr, y.data());
    c = (c + 1) % copies;
    benchmark::DoNotOptimize(y.data());
  }
  const double gflop = static_cast<double>(state.iterations()) * 2.0 * m * n * k * 1e-9;
  state.SetBytesProcessed(state.iterations() * wbytes);
  state.counters["GFLOPS"] = benchmark::Counter(gflop, benchmark::Counter::kIsRate);
  const double cpu_s = process_cpu_seconds() - cpu0;
  state.counters["GFLOP_per_cpu_s"] = gflop / cpu_s;
  state.counters["GB_per_cpu_s"] = static_cast<double>(state.iterations()) * wbytes * 1e-9 / cpu_s;
}
// qwen3-0.6b decode / small batch: qkv (4096x1024), o (1024x2048), gate_up (6144x1024), down (1024x3072).
BENCHMARK(BM_Linear)
    ->ArgNames({"M", "N", "K", "bf16"})
    ->ArgsProduct({{1, 8, 32}, {4096}, {1024}, {1, 3}})
    ->ArgsProduct({{1}, {1024}, {2048}, {1, 3}})
    ->ArgsProduct({{1, 8, 16, 32}, {6144}, {1024}, {1, 3}})
    ->ArgsProduct({{1}, {1024}, {3072}, {1, 3}})
    ->ArgsProduct({{1}, {6144}, {1024}, {0}})
    ->ArgsProduct({{256, 512}, {6144}, {1024}, {0, 1, 3}})
    ->ArgsProduct({{512}, {1024}, {3072}, {1, 3}})
    // A small model's LM head (tiny-qwen3: K = 128): decode and EAGLE verify row counts, rows
    // and output lanes (what the model uses for it).
    ->ArgsProduct({{1, 2, 4, 8}, {151936}, {128}, {1, 2}})
    // Its layers (qkv, gate_up, down), streamed from DRAM as between two LM heads.
    ->ArgsProduct({{1, 4}, {512}, {128}, {1, 2}})
    ->ArgsProduct({{1, 4}, {1024}, {128}, {1, 2}})
    ->ArgsProduct({{1, 4}, {128}, {512}, {1, 2}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// Decode attention: `ctx` cached tokens per request, `bs` requests, 16 q heads / 8 kv heads of 128,
// bf16 KV pool in pages of 16.
void BM_DecodeAttention(benchmark::State& state) {
  const int bs = static_cast<int>(state.range(0)), ctx = static_cast<int>(state.range(1));
  const int qh = 16, kvh = 8, d = 128;
  const int64_t slots = static_cast<int64_t>(bs) * (ctx + 1);
  std::vector<uint16_t> kp(static_cast<size_t>(slots * kvh * d), f32_to_bf16(0.01f)), vp(kp);
  KvLayer kv{kp.data(), vp.data(), DType::kBF16, slots, kvh, d};
  ForwardBatch b;
  for (int r = 0; r < bs; ++r) {
    Segment s;
    s.prefix_len = ctx;
    s.new_len = 1;
    s.slot_offset = static_cast<int64_t>(b.kv_slots.size());
    for (int p = 0; p <= ctx; ++p) b.kv_slots.push_back(r * (ctx + 1) + p);
    b.segments.push_back(s);
    b.input_ids.push_back(0);
    b.positions.push_back(ctx);
  }
  auto q = random_floats(static_cast<size_t>(bs) * qh * d, 3);
  std::vector<float> out(q.size());
  for (auto _ : state) {
    paged_attention(b, q.data(), qh, kv, 0.088f, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * slots * kvh * d * 2 * 2);  // K and V
}
BENCHMARK(BM_DecodeAttention)
    ->ArgNames({"bs", "ctx"})
    ->ArgsProduct({{1, 8}, {1024, 4096}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// Prefill attention: one request of `len` new tokens, causal.
void BM_PrefillAttention(benchmark::State& state) {
  const int len = static_cast<int>(state.range(0));
  const int qh = 16, kvh = 8, d = 128;
  std::vector<uint16_t> kp(static_cast<size_t>(len) * kvh * d, f32_to_bf16(0.01f)), vp(kp);
  KvLayer kv{kp.data(), vp.data(), DType::kBF16, len, kvh, d};
  ForwardBatch b;
  Segment s;
  s.new_len = len;
  b.segments.push_back(s);
  for (int p = 0; p < len; ++p) {
    b.kv_slots.push_back(p);
    b.input_ids.push_back(0);
    b.positions.push_back(p);
  }
  auto q = random_floats(static_cast<size_t>(len) * qh * d, 4);
  std::vector<float> out(q.size());
  for (auto _ : state) {
    paged_attention(b, q.data(), qh, kv, 0.088f, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  // q·k and p·v: 2 · 2·d flops per (token, head, visible key).
  state.counters["GFLOPS"] = benchmark::Counter(static_cast<double>(state.iterations()) * 4.0 * d * qh *
                                                    (static_cast<double>(len) * (len + 1) / 2) * 1e-9,
                                                benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PrefillAttention)->Arg(512)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_RmsNorm(benchmark::State& state) {
  const int64_t m = state.range(0), n = 1024;
  auto x = random_floats(static_cast<size_t>(m * n), 5);
  std::vector<float> w(static_cast<size_t>(n), 1.0f), y(x.size());
  for (auto _ : state) {
    rms_norm(x.data(), w.data(), m, n, 1e-6f, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(state.iterations() * m * n * 8);
}
BENCHMARK(BM_RmsNorm)->Arg(1)->Arg(256)->UseRealTime();

}  // namespace
}  // namespace sgl::engine::cpu

BENCHMARK_MAIN();
