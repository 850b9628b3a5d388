#include "engine/cpu/gemm_amx.h"

#include <sys/syscall.h>
#include <tbb/blocked_range2d.h>
#include <tbb/parallel_for.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "engine/cpu/scratch.h"
#include "engine/cpu/simd.h"

#if defined(__AMX_TILE__) && defined(__AMX_BF16__)
#include <immintrin.h>
#endif

namespace sgl::engine::cpu {
namespace {

constexpr int64_t kTileN = 16;  // outputs per B tile
constexpr int64_t kTileK = 32;  // K per tile product (16 bf16 pairs)
constexpr int64_t kTileM = 16;  // activation rows per A tile
constexpr int64_t kTileElems = 512;

int64_t round_up(int64_t v, int64_t to) { return (v + to - 1) / to * to; }

}  // namespace

bool amx_available() {
  static const bool ok = [] {
    if (!kHaveAmxBuild) return false;
    if (const char* off = std::getenv("SGLCPP_DISABLE_AMX"); off && *off && *off != '0') return false;
    // Linux hands out the tile data state (8 KiB per thread) only on request (arch_prctl).
    constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
  }();
  return ok;
}

int64_t amx_layout_elements(int64_t n, int64_t k) {
  return (round_up(n, kTileN) / kTileN) * (round_up(k, kTileK) / kTileK) * kTileElems;
}

// Tile (block b, chunk c): row r holds outputs j = 0..15 as pairs (W[16b+j][32c+2r], W[..][32c+2r+1]).
void to_amx_layout(const uint16_t* w, int64_t n, int64_t k, uint16_t* amx) {
  const int64_t chunks = round_up(k, kTileK) / kTileK, blocks = round_up(n, kTileN) / kTileN;
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, blocks), [&](const tbb::blocked_range<int64_t>& rb) {
    for (int64_t b = rb.begin(); b < rb.end(); ++b)
      for (int64_t c = 0; c < chunks; ++c) {
        uint16_t* t = amx + (b * chunks + c) * kTileElems;
        for (int64_t r = 0; r < 16; ++r)
          for (int64_t j = 0; j < 16; ++j)
            for (int64_t h = 0; h < 2; ++h) {
              const int64_t row = b * kTileN + j, col = c * kTileK + 2 * r + h;
              t[r * 32 + j * 2 + h] = row < n && col < k ? w[row * k + col] : uint16_t{0};
            }
      }
  });
}

void from_amx_layout(const uint16_t* amx, int64_t n, int64_t k, uint16_t* w) {
  const int64_t chunks = round_up(k, kTileK) / kTileK;
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, n, 64), [&](const tbb::blocked_range<int64_t>& rows) {
    for (int64_t row = rows.begin(); row < rows.end(); ++row) {
      const int64_t b = row / kTileN, j = row % kTileN;
      for (int64_t col = 0; col < k; ++col) {
        const int64_t c = col / kTileK, r = (col % kTileK) / 2, h = col % 2;
        w[row * k + col] = amx[(b * chunks + c) * kTileElems + r * 32 + j * 2 + h];
      }
    }
  });
}

#if defined(__AMX_TILE__) && defined(__AMX_BF16__)
namespace {

struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

// tmm0, tmm1: A (16 rows × 32 bf16); tmm2, tmm3: B; tmm4..7: C (16 × 16 fp32), C[2i + j] = A_i · B_j.
void load_tile_config() {
  thread_local bool loaded = false;
  if (loaded) return;
  TileConfig cfg;
  for (int t = 0; t < 8; ++t) cfg.colsb[t] = 64, cfg.rows[t] = 16;
  _tile_loadconfig(&cfg);
  loaded = true;
}

// Rows [r0, r0 + 16·MA) of xp (bf16, stride kp, zero rows past m) times blocks [b, b + NB) of
// W; C tile 2i + j goes to dst[2i + j] (row stride in bytes: stride[2i + j]).
template <int MA, int NB>
void tile_block(const uint16_t* xp, int64_t kp, int64_t r0, const uint16_t* amx, int64_t chunks, int64_t b,
                float* const* dst, const int64_t* stride) {
  _tile_zero(4);
  if (NB > 1) _tile_zero(5);
  if (MA > 1) _tile_zero(6);
  if (MA > 1 && NB > 1) _tile_zero(7);
  const uint16_t* b0 = amx + b * chunks * kTileElems;
  const uint16_t* b1 = b0 + chunks * kTileElems;
  const uint16_t* a0 = xp + r0 * kp;
  const uint16_t* a1 = a0 + kTileM * kp;
  for (int64_t c = 0; c < chunks; ++c) {
    _tile_loadd(0, a0 + c * kTileK, kp * 2);
    _tile_loadd(2, b0 + c * kTileElems, 64);
    _tile_dpbf16ps(4, 0, 2);
    if (NB > 1) {
      _tile_loadd(3, b1 + c * kTileElems, 64);
      _tile_dpbf16ps(5, 0, 3);
    }
    if (MA > 1) {
      _tile_loadd(1, a1 + c * kTileK, kp * 2);
      _tile_dpbf16ps(6, 1, 2);
      if (NB > 1) _tile_dpbf16ps(7, 1, 3);
    }
  }
  _tile_stored(4, dst[0], stride[0]);
  if (NB > 1) _tile_stored(5, dst[1], stride[1]);
  if (MA > 1) _tile_stored(6, dst[2], stride[2]);
  if (MA > 1 && NB > 1) _tile_stored(7, dst[3], stride[3]);
}

}  // namespace

void linear_amx(const float* x, int64_t m, const uint16_t* amx, int64_t n, int64_t k, const float* bias,
                float* y) {
  const int64_t kp = round_up(k, kTileK), chunks = kp / kTileK, mp = round_up(m, kTileM);
  const int64_t blocks = round_up(n, kTileN) / kTileN;
  // Activations: bf16 rows padded to whole chunks, and zero rows up to a whole A tile.
  thread_local KernelScratch<uint16_t> xp_buffer;
  auto lease = xp_buffer.get(static_cast<size_t>(mp * kp));
  uint16_t* xp = lease.data;
  auto convert = [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      uint16_t* dst = xp + i * kp;
      if (i < m) {
        f32_to_bf16_row(x + i * k, k, dst);
        std::fill(dst + k, dst + kp, uint16_t{0});
      } else {
        std::fill(dst, dst + kp, uint16_t{0});
      }
    }
  };
  // A decode step's few rows convert faster than another thread wakes up (every GEMV of the step).
  if (mp * kp < (int64_t{1} << 16))
    convert(0, mp);
  else
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, mp, 16),
                      [&](const tbb::blocked_range<int64_t>& r) { convert(r.begin(), r.end()); });
  // Tasks: pairs of output blocks × pairs of A tiles (32 rows).
  const int64_t block_pairs = (blocks + 1) / 2, row_pairs = (mp / kTileM + 1) / 2;
  auto task = [&](int64_t bp0, int64_t bp1, int64_t rp0, int64_t rp1) {
    load_tile_config();
    alignas(64) float c[4][16][16];  // tiles that overhang y's rows or columns land here first
    float* dst[4];
    int64_t stride[4];
    bool direct[4];
    // Output blocks outer: a pair of weight blocks (2 × K × 32 bytes) stays in L2 while every
    // row pair of the activations (also cache-resident) passes it, so weights stream once.
    for (int64_t bp = bp0; bp < bp1; ++bp) {
      const int64_t b = bp * 2;
      const int nb = b + 1 < blocks ? 2 : 1;
      for (int64_t rp = rp0; rp < rp1; ++rp) {
        const int64_t r0 = rp * 2 * kTileM;
        const int ma = r0 + kTileM < mp ? 2 : 1;
        for (int t = 0; t < 4; ++t) {
          const int64_t row0 = r0 + (t / 2) * kTileM, col0 = (b + t % 2) * kTileN;
          direct[t] = row0 + kTileM <= m && col0 + kTileN <= n;
          dst[t] = direct[t] ? y + row0 * n + col0 : c[t][0];
          stride[t] = direct[t] ? n * 4 : 64;
        }
        if (ma == 2 && nb == 2)
          tile_block<2, 2>(xp, kp, r0, amx, chunks, b, dst, stride);
        else if (ma == 2)
          tile_block<2, 1>(xp, kp, r0, amx, chunks, b, dst, stride);
        else if (nb == 2)
          tile_block<1, 2>(xp, kp, r0, amx, chunks, b, dst, stride);
        else
          tile_block<1, 1>(xp, kp, r0, amx, chunks, b, dst, stride);
        for (int ai = 0; ai < ma; ++ai)
          for (int bi = 0; bi < nb; ++bi) {
            const int t = ai * 2 + bi;
            const int64_t col0 = (b + bi) * kTileN, cols = std::min<int64_t>(kTileN, n - col0);
            for (int64_t i = 0; i < kTileM; ++i) {
              const int64_t row = r0 + ai * kTileM + i;
              if (row >= m) break;
              float* out = y + row * n + col0;
              if (!direct[t]) std::memcpy(out, c[t][i], static_cast<size_t>(cols) * 4);
              if (bias)
                for (int64_t j = 0; j < cols; ++j) out[j] += bias[col0 + j];
            }
          }
      }
    }
  };
  // A GEMM this small is done before another core would wake up (as in gemm.cpp).
  if (m * n * k < (int64_t{1} << 18)) {
    task(0, block_pairs, 0, row_pairs);
    return;
  }
  tbb::parallel_for(tbb::blocked_range2d<int64_t>(0, row_pairs, 8, 0, block_pairs, 4),
                    [&](const tbb::blocked_range2d<int64_t>& r) {
                      task(r.cols().begin(), r.cols().end(), r.rows().begin(), r.rows().end());
                    });
}
#else
void linear_amx(const float*, int64_t, const uint16_t*, int64_t, int64_t, const float*, float*) {}
#endif

}  // namespace sgl::engine::cpu
