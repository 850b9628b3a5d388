// y = x · Wᵀ on the CPU.
//
// Why not oneDNN/BLAS here: library GEMMs pick different kernels (and reduction orders) for
// different M, so a request's logits would change with the batch it happens to share — the
// engine promises bitwise batch invariance. Every output element is computed as simd.h's dot()
// computes it; the tiling below (4 x-rows × 4 W-rows, 16 accumulators) only reuses loads and
// never reorders an element's additions. Decode (small M) is bound by reading W, which bf16
// weights halve. A weight laid out in output lanes (gemm_lanes.h, a small model's LM head) has
// its own fixed order, again the same for every M.
#include <tbb/blocked_range2d.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <vector>

#include "engine/cpu/gemm_amx.h"
#include "engine/cpu/gemm_bf16.h"
#include "engine/cpu/gemm_lanes.h"
#include "engine/cpu/kernels.h"
#include "engine/cpu/quant_weight.h"
#include "engine/cpu/scratch.h"
#include "engine/cpu/simd.h"

// g++ 12 flags the avx512 intrinsics' "undefined" pass-through operands as uninitialized once the
// tiles are unrolled (a false positive of its headers); nothing here reads such a value.
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace sgl::engine::cpu {

struct PackedWeight::Impl {
  int64_t n = 0, k = 0;
  DType dtype = DType::kF32;
  std::vector<float> f32;
  std::vector<uint16_t> bf16;  // row-major, in output lanes (gemm_lanes.h) when `lanes`, in AMX
                               // tiles (gemm_amx.h) when `amx`
  bool lanes = false;
  bool amx = false;
  std::unique_ptr<QuantWeight> quant;  // set: a quantized weight (f32 / bf16 unused)
};

PackedWeight::PackedWeight() = default;
PackedWeight::~PackedWeight() = default;
PackedWeight::PackedWeight(PackedWeight&&) noexcept = default;
PackedWeight& PackedWeight::operator=(PackedWeight&&) noexcept = default;

namespace {

void convert_into(const void* src, DType src_type, int64_t count, DType dst_type, float* f32,
                  uint16_t* bf16) {
  tbb::parallel_for(
      tbb::blocked_range<int64_t>(0, count, 1 << 16), [&](const tbb::blocked_range<int64_t>& r) {
        for (int64_t i = r.begin(); i < r.end(); ++i) {
          float v;
          switch (src_type) {
            case DType::kF32:
              v = static_cast<const float*>(src)[i];
              break;
            case DType::kBF16:
              v = bf16_to_f32(static_cast<const uint16_t*>(src)[i]);
              break;
            case DType::kF16:
              v = f16_to_f32(static_cast<const uint16_t*>(src)[i]);
              break;
            case DType::kF8E4M3:
              v = f8e4m3_to_f32(static_cast<const uint8_t*>(src)[i]);
              break;
            case DType::kF8E5M2:
              v = f8e5m2_to_f32(static_cast<const uint8_t*>(src)[i]);
              break;
            case DType::kI8:
              v = static_cast<const int8_t*>(src)[i];
              break;
            case DType::kU8:
              v = static_cast<const uint8_t*>(src)[i];
              break;
            default:
              v = static_cast<float>(static_cast<const int32_t*>(src)[i]);
              break;
          }
          if (dst_type == DType::kF32) {
            f32[i] = v;
          } else {
            bf16[i] = src_type == DType::kBF16 ? static_cast<const uint16_t*>(src)[i] : f32_to_bf16(v);
          }
        }
      });
}

}  // namespace

void convert_tensor(const void* src, DType src_type, int64_t count, DType dst_type, void* dst) {
  convert_into(src, src_type, count, dst_type, static_cast<float*>(dst), static_cast<uint16_t*>(dst));
}

PackedWeight PackedWeight::pack(const void* src, DType src_type, int64_t n, int64_t k, DType compute_type) {
  PackedWeight w;
  w.impl_ = std::make_unique<Impl>();
  w.impl_->n = n;
  w.impl_->k = k;
  w.impl_->dtype = compute_type == DType::kF32 ? DType::kF32 : DType::kBF16;
  if (w.impl_->dtype == DType::kF32) {
    w.impl_->f32.resize(static_cast<size_t>(n * k));
  } else {
    w.impl_->bf16.resize(static_cast<size_t>(n * k));
  }
  if (src != nullptr) w.reload(src, src_type);
  return w;
}

PackedWeight PackedWeight::quantized(QuantWeight q) {
  PackedWeight w;
  w.impl_ = std::make_unique<Impl>();
  w.impl_->n = q.n;
  w.impl_->k = q.k;
  w.impl_->quant = std::make_unique<QuantWeight>(std::move(q));
  return w;
}

QuantWeight* PackedWeight::quant() { return impl_ ? impl_->quant.get() : nullptr; }
const QuantWeight* PackedWeight::quant() const { return impl_ ? impl_->quant.get() : nullptr; }

void PackedWeight::reload(const void* src, DType src_type) {
  const bool lanes = impl_->lanes, amx = impl_->amx;
  if (lanes || amx) {
    impl_->lanes = impl_->amx = false;
    impl_->bf16.resize(static_cast<size_t>(impl_->n * impl_->k));
  }
  convert_into(src, src_type, impl_->n * impl_->k, impl_->dtype, impl_->f32.data(), impl_->bf16.data());
  if (lanes) use_output_lanes();
  if (amx) use_amx_tiles();
}

void PackedWeight::use_amx_tiles() {
  if (!impl_) return;
  Impl& im = *impl_;
  if (im.amx || im.lanes || im.quant || im.dtype != DType::kBF16 || !amx_available()) return;
  std::vector<uint16_t> laid(static_cast<size_t>(amx_layout_elements(im.n, im.k)));
  to_amx_layout(im.bf16.data(), im.n, im.k, laid.data());
  im.bf16.swap(laid);
  im.amx = true;
}

void PackedWeight::use_output_lanes() {
  if (!impl_) return;  // an empty weight (e.g. the router of a dense layer)
  Impl& im = *impl_;
  if (im.lanes || im.amx || im.quant || im.dtype != DType::kBF16 || !kHaveBf16Dot) return;
  std::vector<uint16_t> laid(static_cast<size_t>(lane_layout_elements(im.n, im.k)));
  to_lane_layout(im.bf16.data(), im.n, im.k, laid.data());
  im.bf16.swap(laid);
  im.lanes = true;
}

bool PackedWeight::output_lanes() const { return impl_ && impl_->lanes; }
bool PackedWeight::amx_tiles() const { return impl_ && impl_->amx; }

const void* PackedWeight::row_major_data(std::vector<uint16_t>& scratch) const {
  const Impl& im = *impl_;
  if (im.dtype == DType::kF32) return im.f32.data();
  if (!im.lanes && !im.amx) return im.bf16.data();
  scratch.resize(static_cast<size_t>(im.n * im.k));
  if (im.amx)
    from_amx_layout(im.bf16.data(), im.n, im.k, scratch.data());
  else
    from_lane_layout(im.bf16.data(), im.n, im.k, scratch.data());
  return scratch.data();
}

int64_t PackedWeight::n() const { return impl_ ? impl_->n : 0; }
int64_t PackedWeight::k() const { return impl_ ? impl_->k : 0; }
DType PackedWeight::dtype() const { return impl_ ? impl_->dtype : DType::kF32; }
int64_t PackedWeight::bytes() const {
  if (!impl_) return 0;
  if (impl_->quant) return impl_->quant->bytes();
  return impl_->n * impl_->k * dtype_size(impl_->dtype);
}
void* PackedWeight::mutable_data() {
  Impl& im = *impl_;
  if (im.lanes || im.amx) {
    std::vector<uint16_t> rows;
    row_major_data(rows);
    im.bf16.swap(rows);
    im.lanes = im.amx = false;
  }
  return im.dtype == DType::kF32 ? static_cast<void*>(im.f32.data()) : im.bf16.data();
}

namespace {

#if defined(__AVX512F__)
// One x-row against R consecutive W-rows; per-element arithmetic exactly as dot().
template <int R, class W>
inline void row_times_w(const float* xr, const W* w0, int64_t k, int64_t kfull, __mmask16 tail,
                        const float* bias, float* y) {
  // Unrolled by the pragmas so acc stays in registers (see gemm_bf16.cpp).
  __m512 acc[R];
#pragma GCC unroll 16
  for (int j = 0; j < R; ++j) acc[j] = _mm512_setzero_ps();
  for (int64_t i = 0; i < kfull; i += kLanes) {
    __m512 xv = load16(xr + i);
#pragma GCC unroll 16
    for (int j = 0; j < R; ++j) acc[j] = _mm512_fmadd_ps(xv, load16(w0 + j * k + i), acc[j]);
  }
  if (tail) {
    __m512 xv = load16_masked(xr + kfull, tail);
#pragma GCC unroll 16
    for (int j = 0; j < R; ++j) acc[j] = _mm512_fmadd_ps(xv, load16_masked(w0 + j * k + kfull, tail), acc[j]);
  }
  for (int j = 0; j < R; ++j) y[j] = reduce16(acc[j]) + (bias ? bias[j] : 0.0f);
}
#endif

template <class W>
void linear_block(const float* x, int64_t m0, int64_t m1, const W* w, int64_t n0, int64_t n1, int64_t k,
                  int64_t n_total, const float* bias, float* y) {
#if defined(__AVX512F__)
  const int64_t kfull = k / kLanes * kLanes;
  const __mmask16 tail = static_cast<__mmask16>((1u << (k - kfull)) - 1);
  int64_t n = n0;
  if (m1 - m0 < 4) {
    // Decode (a few rows): bound by streaming W. Eight W-rows per pass give eight independent FMA
    // chains, enough to hide the FMA latency while the loads stream.
    for (; n + 8 <= n1; n += 8)
      for (int64_t m = m0; m < m1; ++m)
        row_times_w<8>(x + m * k, w + n * k, k, kfull, tail, bias ? bias + n : nullptr, y + m * n_total + n);
  }
  for (; n + 4 <= n1; n += 4) {
    const W* w0 = w + n * k;
    int64_t m = m0;
    for (; m + 4 <= m1; m += 4) {
      __m512 acc[4][4];
#pragma GCC unroll 4
      for (int r = 0; r < 4; ++r)
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) acc[r][j] = _mm512_setzero_ps();
      const float* xr = x + m * k;
      for (int64_t i = 0; i < kfull; i += kLanes) {
        __m512 wv[4], xv[4];
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) wv[j] = load16(w0 + j * k + i);
#pragma GCC unroll 4
        for (int r = 0; r < 4; ++r) xv[r] = load16(xr + r * k + i);
#pragma GCC unroll 4
        for (int r = 0; r < 4; ++r)
#pragma GCC unroll 4
          for (int j = 0; j < 4; ++j) acc[r][j] = _mm512_fmadd_ps(xv[r], wv[j], acc[r][j]);
      }
      if (tail) {
        __m512 wv[4], xv[4];
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) wv[j] = load16_masked(w0 + j * k + kfull, tail);
#pragma GCC unroll 4
        for (int r = 0; r < 4; ++r) xv[r] = load16_masked(xr + r * k + kfull, tail);
#pragma GCC unroll 4
        for (int r = 0; r < 4; ++r)
#pragma GCC unroll 4
          for (int j = 0; j < 4; ++j) acc[r][j] = _mm512_fmadd_ps(xv[r], wv[j], acc[r][j]);
      }
      // Lane 4r + j of the sums is reduce16(acc[r][j]), bit for bit.
      alignas(64) float sums[16];
      _mm512_store_ps(sums, reduce16x16(&acc[0][0]));
      for (int r = 0; r < 4; ++r)
        for (int j = 0; j < 4; ++j)
          y[(m + r) * n_total + n + j] = sums[4 * r + j] + (bias ? bias[n + j] : 0.0f);
    }
    for (; m < m1; ++m)
      row_times_w<4>(x + m * k, w0, k, kfull, tail, bias ? bias + n : nullptr, y + m * n_total + n);
  }
  for (; n < n1; ++n)
    for (int64_t m = m0; m < m1; ++m)
      y[m * n_total + n] = dot(x + m * k, w + n * k, k) + (bias ? bias[n] : 0.0f);
#else
  for (int64_t n = n0; n < n1; ++n)
    for (int64_t m = m0; m < m1; ++m)
      y[m * n_total + n] = dot(x + m * k, w + n * k, k) + (bias ? bias[n] : 0.0f);
#endif
}

// A weight in output lanes: activations rounded to bf16 rows padded to whole pairs, then tasks of
// (row chunk × group of 16-output blocks). Every output is the same accumulation whatever the
// tile, task or M, so the split does not change results.
void linear_in_lanes(const float* x, int64_t m, const uint16_t* lanes, int64_t n, int64_t k,
                     const float* bias, float* y) {
  const int64_t xs = (k + 1) / 2 * 2;
  thread_local KernelScratch<uint16_t> xb_buffer;  // reused: see engine/cpu/scratch.h
  auto lease = xb_buffer.get(static_cast<size_t>(m * xs));
  uint16_t* xb = lease.data;
  auto round_rows = [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      f32_to_bf16_row(x + r * k, k, xb + r * xs);
      if (xs > k) xb[r * xs + k] = 0;
    }
  };
  const int64_t blocks = (n + kLaneOutputs - 1) / kLaneOutputs;
  // Up to ~1M multiply-adds (a few µs on one core: a tiny layer, a draft head, a short verify)
  // finish before another core would wake up and join: the calling thread does them.
  if (m * n * k <= (int64_t{1} << 20)) {
    round_rows(0, m);
    linear_lanes_bf16(xb, 0, m, lanes, 0, blocks, n, k, bias, y);
    return;
  }
  tbb::parallel_for(
      tbb::blocked_range<int64_t>(0, m, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(k, 1))),
      [&](const tbb::blocked_range<int64_t>& r) { round_rows(r.begin(), r.end()); });
  // Groups of 40 blocks (multiples of the 5- and 8-block tiles: no remainder tiles inside the
  // matrix) by chunks of 64 rows (prefill of a layer narrower than one group still splits).
  const int64_t kGroup = blocks >= 320 ? 40 : 8, kRows = 64;
  tbb::parallel_for(tbb::blocked_range2d<int64_t>(0, (blocks + kGroup - 1) / kGroup, 1, 0, m, kRows),
                    [&](const tbb::blocked_range2d<int64_t>& r) {
                      linear_lanes_bf16(xb, r.cols().begin(), r.cols().end(), lanes,
                                        r.rows().begin() * kGroup, std::min(blocks, r.rows().end() * kGroup),
                                        n, k, bias, y);
                    });
}

}  // namespace

void linear(const float* x, int64_t m, const PackedWeight& w, const float* bias, float* y) {
  const auto& im = *w.impl_;
  if (im.quant) {
    quant_linear(x, m, *im.quant, bias, y);
    return;
  }
  const int64_t n = im.n, k = im.k;
  if (im.amx) {
    linear_amx(x, m, im.bf16.data(), n, k, bias, y);
    return;
  }
  if (im.lanes) {
    linear_in_lanes(x, m, im.bf16.data(), n, k, bias, y);
    return;
  }
  // Blocks of 64 W-rows (a few KB..MB of weights) by 64 x-rows; grain chosen so small decode
  // GEMVs still split over all cores.
  const int64_t nb = 64, mb = 64;
  const tbb::blocked_range2d<int64_t> all(0, n, nb, 0, m, mb);
  // A GEMM this small (a tiny layer, a draft head) is done before another core would wake up:
  // run it on the calling thread. Every output is the same accumulation whatever the blocking,
  // so results do not change.
  const bool serial = m * n * k < (int64_t{1} << 18);
  if (im.dtype == DType::kBF16 && kHaveBf16Dot) {
    // Round the activations to bf16 once per row (a fixed per-row operation: still M-invariant).
    thread_local KernelScratch<uint16_t> xb_buffer;  // reused: see engine/cpu/scratch.h
    auto lease = xb_buffer.get(static_cast<size_t>(m * k));
    uint16_t* xb = lease.data;
    if (serial) {
      f32_to_bf16_row(x, m * k, xb);
      for (int64_t m0 = 0; m0 < m; m0 += mb)
        linear_block_bf16(xb, m0, std::min(m, m0 + mb), im.bf16.data(), 0, n, k, n, bias, y);
      return;
    }
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, m * k, 1 << 14),
                      [&](const tbb::blocked_range<int64_t>& r) {
                        f32_to_bf16_row(x + r.begin(), r.end() - r.begin(), xb + r.begin());
                      });
    tbb::parallel_for(all, [&](const tbb::blocked_range2d<int64_t>& r) {
      linear_block_bf16(xb, r.cols().begin(), r.cols().end(), im.bf16.data(), r.rows().begin(),
                        r.rows().end(), k, n, bias, y);
    });
    return;
  }
  if (serial) {
    for (int64_t m0 = 0; m0 < m; m0 += mb) {
      if (im.dtype == DType::kF32)
        linear_block(x, m0, std::min(m, m0 + mb), im.f32.data(), 0, n, k, n, bias, y);
      else
        linear_block(x, m0, std::min(m, m0 + mb), im.bf16.data(), 0, n, k, n, bias, y);
    }
    return;
  }
  tbb::parallel_for(all, [&](const tbb::blocked_range2d<int64_t>& r) {
    if (im.dtype == DType::kF32) {
      linear_block(x, r.cols().begin(), r.cols().end(), im.f32.data(), r.rows().begin(), r.rows().end(), k, n,
                   bias, y);
    } else {
      linear_block(x, r.cols().begin(), r.cols().end(), im.bf16.data(), r.rows().begin(), r.rows().end(), k,
                   n, bias, y);
    }
  });
}

}  // namespace sgl::engine::cpu
