// Paged attention for ragged prefill/extend and decode, flash-decoding style: a block takes one
// token, one KV head (with up to 8 of its GQA query heads, one warp each) and one split of the
// token's keys; keys arrive in tiles of 32 gathered through the slot table into shared memory (so
// any page size works), each lane scores one key, and an online softmax accumulates V. A second
// kernel merges the splits. Splitting the keys keeps all SMs busy when a small batch has long
// contexts (decode at batch 1), which a block per (token, head) alone would not.
//
// Scores follow cpu::AttentionOptions: scale, soft-cap, xAI temperature; a sliding window moves the
// first key a token looks at (its splits divide only the keys inside the window, so tiles wholly
// outside it are never loaded). Everything a token computes depends on its own position, keys and
// the batch's split count, never on the other tokens of the batch.
#include <cuda_bf16.h>

#include <algorithm>
#include <cfloat>

#include "engine/cuda/kernels.h"

namespace sgl::engine::cuda {

namespace {

constexpr int kTile = 32;     // keys per tile: one per lane
constexpr int kMaxWarps = 8;  // query heads of one KV head per block
constexpr float kLog2e = 1.4426950408889634f;

struct SplitPlan {
  int splits = 1;
  int chunks = 1;  // groups of kMaxWarps query heads per KV head
  int warps = 1;
};

// The split count depends only on the batch's shape (tokens × heads), never on context lengths:
// a captured CUDA graph keeps its grid while contexts grow. Each token divides its own keys among
// the splits (kernel side), so a short context leaves most splits empty and cheap.
constexpr int kMaxSplits = 16;
SplitPlan plan(const AttnParams& p, int num_sms) {
  SplitPlan s;
  const int group = p.q_heads / p.kv_heads;
  s.chunks = (group + kMaxWarps - 1) / kMaxWarps;
  s.warps = std::min(group, kMaxWarps);
  const int64_t blocks = p.tokens * p.kv_heads * s.chunks;
  const int64_t want = std::max<int64_t>(1, (2LL * num_sms + blocks - 1) / blocks);
  s.splits = static_cast<int>(std::min<int64_t>(want, kMaxSplits));
  return s;
}

__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

template <int D>
__global__ void attention_split_kernel(const float* q, const uint16_t* k_cache, const uint16_t* v_cache,
                                       AttnParams p, SplitPlan sp, float* part_acc, float* part_ml) {
  constexpr int kRow = D + 2;          // K rows padded by one word: lane-per-row reads hit distinct banks
  constexpr int kPer = (D + 31) / 32;  // output dims per lane (lanes past D/kPer idle for D < 32)
  __shared__ __align__(16) uint16_t ks[kTile * kRow];
  __shared__ __align__(16) uint16_t vs[kTile * D];
  __shared__ float qs[kMaxWarps][D];
  __shared__ float ps[kMaxWarps][kTile];

  const int64_t t = blockIdx.x;
  const int group = p.q_heads / p.kv_heads;
  const int kvh = blockIdx.y / sp.chunks, chunk = blockIdx.y % sp.chunks;
  const int split = blockIdx.z;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int g = chunk * kMaxWarps + warp;
  const bool active = warp < sp.warps && g < group;
  const int qh = kvh * group + g;

  const int kv_len = p.kv_len[t];
  // The query's position (a tree token's is its depth, not its key index): the window's first key
  // lo = max(0, pos − window + 1) and the temperature, both as the CPU's QueryRule computes them.
  const int64_t pos = p.positions ? p.positions[t] : kv_len - 1;
  int64_t lo = p.window > 0 ? pos - p.window + 1 : 0;
  lo = lo < 0 ? 0 : (lo > kv_len ? kv_len : lo);
  float temperature = 1.0f;
  if (p.temperature_len > 0 && pos > p.temperature_len)
    temperature =
        static_cast<float>(log2(static_cast<double>(pos)) / log2(static_cast<double>(p.temperature_len)));
  const int span = kv_len - static_cast<int>(lo);  // the keys this token may see, split along z
  const int split_len = ((span + sp.splits - 1) / sp.splits + kTile - 1) / kTile * kTile;
  const int begin = static_cast<int>(lo) + split * split_len;
  const int end = min(kv_len, begin + split_len);
  const int base = p.kv_base[t];
  const int prefix = p.prefix[t];
  const int mask_off = p.mask_off ? p.mask_off[t] : -1;
  // Scores live in the log2 domain (exp2f below). Without a cap, log2(e)·temperature folds into q;
  // with one, tanh needs the true score first, and the factor is applied after the cap.
  const bool capped = p.softcap > 0.0f;
  const float post = temperature * kLog2e;

  if (active)
    for (int d = lane; d < D; d += 32)
      qs[warp][d] = q[(t * p.q_heads + qh) * D + d] * p.scale * (capped ? 1.0f : post);

  float m = -FLT_MAX, l = 0.0f, acc[kPer];
#pragma unroll
  for (int i = 0; i < kPer; ++i) acc[i] = 0.0f;

  const int nthreads = blockDim.x;
  for (int t0 = begin; t0 < end; t0 += kTile) {
    __syncthreads();  // the previous tile is consumed (and qs written, the first time)
    for (int c = threadIdx.x; c < kTile * (D / 8); c += nthreads) {
      const int row = c / (D / 8), col = (c % (D / 8)) * 8;
      const int j = t0 + row;
      uint4 kv = make_uint4(0, 0, 0, 0), vv = make_uint4(0, 0, 0, 0);
      if (j < end) {
        const int64_t slot = p.kv_slots[base + j];
        const int64_t off = (slot * p.kv_heads + kvh) * D + col;
        kv = *reinterpret_cast<const uint4*>(k_cache + off);
        vv = *reinterpret_cast<const uint4*>(v_cache + off);
      }
      auto* kw = reinterpret_cast<uint32_t*>(ks + row * kRow + col);
      kw[0] = kv.x, kw[1] = kv.y, kw[2] = kv.z, kw[3] = kv.w;
      *reinterpret_cast<uint4*>(vs + row * D + col) = vv;
    }
    __syncthreads();
    if (!active) continue;
    const int j = t0 + lane;
    bool valid = j < end;
    if (valid && mask_off >= 0 && j >= prefix) valid = p.mask[mask_off + (j - prefix)] != 0;
    float s = -FLT_MAX;
    if (valid) {
      s = 0.0f;
      const auto* kr = reinterpret_cast<const __nv_bfloat162*>(ks + lane * kRow);
#pragma unroll 16
      for (int d2 = 0; d2 < D / 2; ++d2) {
        const float2 kf = __bfloat1622float2(kr[d2]);
        s += qs[warp][2 * d2] * kf.x + qs[warp][2 * d2 + 1] * kf.y;
      }
      if (capped) s = p.softcap * tanhf(s / p.softcap) * post;
    }
    const float m_new = fmaxf(m, warp_max(s));
    if (m_new == -FLT_MAX) continue;  // nothing visible yet
    const float corr = exp2f(m - m_new);
    const float pj = valid ? exp2f(s - m_new) : 0.0f;
    l = l * corr + warp_sum(pj);
    m = m_new;
    ps[warp][lane] = pj;
    __syncwarp();
#pragma unroll
    for (int i = 0; i < kPer; ++i) acc[i] *= corr;
    for (int r = 0; r < kTile; ++r) {
      const float w = ps[warp][r];
      const uint16_t* vr = vs + r * D + lane * kPer;
#pragma unroll
      for (int i = 0; i < kPer; ++i)
        if (lane * kPer + i < D) acc[i] += w * __uint_as_float(static_cast<uint32_t>(vr[i]) << 16);
    }
    __syncwarp();
  }
  if (!active) return;
  const int64_t idx = (t * p.q_heads + qh) * sp.splits + split;
#pragma unroll
  for (int i = 0; i < kPer; ++i)
    if (lane * kPer + i < D) part_acc[idx * D + lane * kPer + i] = acc[i];
  if (lane == 0) part_ml[2 * idx] = m, part_ml[2 * idx + 1] = l;
}

// One block per (token, head), one thread per dim: out = Σ acc_s·2^(m_s−M) / Σ l_s·2^(m_s−M).
__global__ void attention_merge_kernel(const float* part_acc, const float* part_ml, int splits, int d,
                                       uint16_t* out) {
  const int64_t th = blockIdx.x;  // token * q_heads + head
  float mx = -FLT_MAX;
  for (int s = 0; s < splits; ++s) mx = fmaxf(mx, part_ml[2 * (th * splits + s)]);
  float num = 0.0f, den = 0.0f;
  for (int s = 0; s < splits; ++s) {
    const float ms = part_ml[2 * (th * splits + s)];
    if (ms == -FLT_MAX) continue;
    const float w = exp2f(ms - mx);
    den += part_ml[2 * (th * splits + s) + 1] * w;
    num += part_acc[(th * splits + s) * d + threadIdx.x] * w;
  }
  out[th * d + threadIdx.x] = __bfloat16_as_ushort(__float2bfloat16_rn(den > 0.0f ? num / den : 0.0f));
}

}  // namespace

int64_t attention_workspace_bytes(const AttnParams& p, int num_sms) {
  const SplitPlan sp = plan(p, num_sms);
  return p.tokens * p.q_heads * sp.splits * (p.head_dim + 2) * static_cast<int64_t>(sizeof(float));
}

void paged_attention(const float* q, const uint16_t* k_cache, const uint16_t* v_cache, const AttnParams& p,
                     uint16_t* out, void* workspace, int num_sms, cudaStream_t s) {
  if (p.tokens == 0) return;
  const SplitPlan sp = plan(p, num_sms);
  auto* part_acc = static_cast<float*>(workspace);
  float* part_ml = part_acc + p.tokens * p.q_heads * sp.splits * p.head_dim;
  const dim3 grid(static_cast<unsigned>(p.tokens), static_cast<unsigned>(p.kv_heads * sp.chunks),
                  static_cast<unsigned>(sp.splits));
  const unsigned threads = 32u * static_cast<unsigned>(sp.warps);
  switch (p.head_dim) {
    case 16:
      attention_split_kernel<16><<<grid, threads, 0, s>>>(q, k_cache, v_cache, p, sp, part_acc, part_ml);
      break;
    case 32:
      attention_split_kernel<32><<<grid, threads, 0, s>>>(q, k_cache, v_cache, p, sp, part_acc, part_ml);
      break;
    case 64:
      attention_split_kernel<64><<<grid, threads, 0, s>>>(q, k_cache, v_cache, p, sp, part_acc, part_ml);
      break;
    case 128:
      attention_split_kernel<128><<<grid, threads, 0, s>>>(q, k_cache, v_cache, p, sp, part_acc, part_ml);
      break;
    case 256:
      attention_split_kernel<256><<<grid, threads, 0, s>>>(q, k_cache, v_cache, p, sp, part_acc, part_ml);
      break;
    default:
      return;  // the runner refuses other head sizes at load
  }
  attention_merge_kernel<<<static_cast<unsigned>(p.tokens * p.q_heads), static_cast<unsigned>(p.head_dim), 0,
                           s>>>(part_acc, part_ml, sp.splits, p.head_dim, out);
}

}  // namespace sgl::engine::cuda
