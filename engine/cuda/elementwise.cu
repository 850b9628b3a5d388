// Row-wise kernels: embedding, RMSNorm (plain, fused with the residual add, on gathered rows, and
// the in-place sandwich norm), SiLU·mul and GeGLU, q/k-norm + RoPE + KV store, soft-cap, scale, the
// shared-expert and residual-MoE combines, bf16 conversion. One block per row; rows are
// memory-bound, so each thread walks the row with a stride of the block. Elementwise kernels
// compute each element alone, so no result depends on the batch around it.
#include <cuda_bf16.h>

#include <algorithm>
#include <cfloat>

#include "engine/cuda/kernels.h"

namespace sgl::engine::cuda {

namespace {

constexpr int kRowThreads = 256;

__device__ __forceinline__ float bf(uint16_t h) { return __uint_as_float(static_cast<uint32_t>(h) << 16); }
__device__ __forceinline__ uint16_t to_bf(float f) { return __bfloat16_as_ushort(__float2bfloat16_rn(f)); }

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// Sum over the block (kRowThreads threads); every thread gets the total.
__device__ float block_sum(float v) {
  __shared__ float part[kRowThreads / 32];
  __shared__ float total;
  v = warp_sum(v);
  if ((threadIdx.x & 31) == 0) part[threadIdx.x >> 5] = v;
  __syncthreads();
  if (threadIdx.x < 32) {
    float t = threadIdx.x < kRowThreads / 32 ? part[threadIdx.x] : 0.0f;
    t = warp_sum(t);
    if (threadIdx.x == 0) total = t;
  }
  __syncthreads();
  return total;
}

__global__ void embedding_kernel(const uint16_t* table, int64_t hidden, const int32_t* ids, float* out) {
  const int64_t row = blockIdx.x;
  const uint16_t* src = table + static_cast<int64_t>(ids[row]) * hidden;
  for (int64_t j = threadIdx.x; j < hidden; j += blockDim.x) out[row * hidden + j] = bf(src[j]);
}

// in-place-safe: each thread reads then writes only its own elements.
__global__ void rms_norm_kernel(const float* delta, const float* bias, float* residual, const float* x_in,
                                const int32_t* rows, const float* w, int64_t n, float eps, uint16_t* y,
                                float* y32) {
  const int64_t r = blockIdx.x;
  const int64_t src_row = rows ? rows[r] : r;
  float ss = 0.0f;
  if (residual) {  // fused residual add
    float* x = residual + r * n;
    const float* d = delta + r * n;
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
      float v = x[j] + d[j] + (bias ? bias[j] : 0.0f);
      x[j] = v;
      ss += v * v;
    }
  } else {
    const float* x = x_in + src_row * n;
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) ss += x[j] * x[j];
  }
  const float inv = rsqrtf(block_sum(ss) / static_cast<float>(n) + eps);
  const float* x = residual ? residual + r * n : x_in + src_row * n;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    const float v = x[j] * inv * w[j];
    y[r * n + j] = to_bf(v);
    if (y32) y32[r * n + j] = v;
  }
}

// In place: each thread reads its own elements for the sum of squares, then rewrites only those.
__global__ void rms_norm_inplace_kernel(float* x, const float* bias, const float* w, int64_t n, float eps) {
  float* row = x + static_cast<int64_t>(blockIdx.x) * n;
  float ss = 0.0f;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    const float v = row[j] + (bias ? bias[j] : 0.0f);
    ss += v * v;
  }
  const float inv = rsqrtf(block_sum(ss) / static_cast<float>(n) + eps);
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x)
    row[j] = (row[j] + (bias ? bias[j] : 0.0f)) * inv * w[j];
}

__global__ void silu_mul_kernel(const float* gu, int64_t inter, uint16_t* out) {
  const int64_t r = blockIdx.x;
  const float* g = gu + r * 2 * inter;
  for (int64_t j = threadIdx.x; j < inter; j += blockDim.x) {
    const float a = g[j];
    out[r * inter + j] = to_bf(a / (1.0f + __expf(-a)) * g[inter + j]);
  }
}

// 0.5·g·(1 + tanh(z)) = g / (1 + e^{−2z}), z = √(2/π)·(g + 0.044715·g³): SiLU's form, as on the CPU.
// A very negative g overflows e^{−2z} to +inf and gives −0, the limit.
__global__ void gelu_tanh_mul_kernel(const float* gu, int64_t inter, uint16_t* out) {
  constexpr float kC = 0.7978845608028654f, kA = 0.044715f;
  const int64_t r = blockIdx.x;
  const float* g = gu + r * 2 * inter;
  for (int64_t j = threadIdx.x; j < inter; j += blockDim.x) {
    const float a = g[j];
    const float inner = fmaf(kA * a, a * a, a);
    out[r * inter + j] = to_bf(a / (1.0f + __expf(-2.0f * kC * inner)) * g[inter + j]);
  }
}

// Grid-stride elementwise kernels over n floats.
__global__ void softcap_kernel(float* x, int64_t n, float cap) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    x[i] = cap * tanhf(x[i] / cap);
}

__global__ void scale_kernel(float* x, int64_t n, float factor) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    x[i] *= factor;
}

__global__ void residual_moe_combine_kernel(const float* dense, int64_t n, float* out) {
  const float inv_sqrt2 = static_cast<float>(0.70710678118654752440);  // as the CPU's float(1/√2)
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = (dense[i] + out[i]) * inv_sqrt2;
}

// One block per token: the gate is one logit per token (the shared_expert_gate GEMM's output).
__global__ void gated_accumulate_kernel(const float* y, const float* gate, int64_t h, float* out) {
  const int64_t t = blockIdx.x;
  const float g = gate ? 1.0f / (1.0f + expf(-gate[t])) : 1.0f;
  for (int64_t j = threadIdx.x; j < h; j += blockDim.x) out[t * h + j] += g * y[t * h + j];
}

// One block per token, one warp per head (q heads, then k heads, then v heads). A head passes
// through the warp's row of shared memory so RoPE can pair elements j and j + D/2 for any D.
__global__ void qkv_rope_store_kernel(const float* qkv, QkvParams p, float* q, uint16_t* k_cache,
                                      uint16_t* v_cache) {
  __shared__ float rows[8][256];
  const int64_t t = blockIdx.x;
  const int d = p.head_dim, hq = p.q_heads, hkv = p.kv_heads, half = d / 2;
  const int64_t row_n = static_cast<int64_t>(hq + 2 * hkv) * d;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int warps = blockDim.x >> 5;
  const float pos = static_cast<float>(p.positions[t]);
  const int64_t slot = p.store_slot[t];
  float* row = rows[warp];
  for (int h = warp; h < hq + 2 * hkv; h += warps) {
    const float* src = qkv + t * row_n + static_cast<int64_t>(h) * d;
    const float* bias = p.bias ? p.bias + static_cast<int64_t>(h) * d : nullptr;
    float ss = 0.0f;
    for (int j = lane; j < d; j += 32) {
      const float v = src[j] + (bias ? bias[j] : 0.0f);
      row[j] = v;
      ss += v * v;
    }
    __syncwarp();
    if (h >= hq + hkv) {  // v: stored as is
      uint16_t* dst = v_cache + (slot * hkv + (h - hq - hkv)) * d;
      for (int j = lane; j < d; j += 32) dst[j] = to_bf(row[j]);
      __syncwarp();
      continue;
    }
    const bool is_q = h < hq;
    const float* norm = is_q ? p.q_norm : p.k_norm;
    const float inv = norm ? rsqrtf(warp_sum(ss) / static_cast<float>(d) + p.eps) : 1.0f;
    float* qdst = q + (t * hq + h) * d;
    // Qwen v1's logn scaling of the rotated query, as the CPU computes the factor (in double).
    float logn = 1.0f;
    if (is_q && p.logn_len > 0 && p.positions[t] + 1LL > p.logn_len)
      logn = static_cast<float>(log(static_cast<double>(p.positions[t]) + 1.0) /
                                log(static_cast<double>(p.logn_len)));
    uint16_t* kdst = k_cache + (slot * hkv + (h - hq)) * d;
    for (int j = lane; j < half; j += 32) {
      float x1 = row[j], x2 = row[j + half];
      if (norm) x1 = x1 * inv * norm[j], x2 = x2 * inv * norm[j + half];
      float sn, cs;
      sincosf(pos * p.inv_freq[j], &sn, &cs);
      const float y1 = x1 * cs - x2 * sn, y2 = x2 * cs + x1 * sn;
      if (is_q) {
        qdst[j] = y1 * logn, qdst[j + half] = y2 * logn;  // × 1 is exact
      } else {
        kdst[j] = to_bf(y1), kdst[j + half] = to_bf(y2);
      }
    }
    __syncwarp();
  }
}

// One warp per row: (value, index) reduction, ties to the lower index (as std::max_element).
__global__ void argmax_logprob_kernel(const float* logits, int64_t vocab, int32_t* ids, float* logprob) {
  const int64_t r = blockIdx.x;
  const float* x = logits + r * vocab;
  float best = -FLT_MAX;
  int64_t idx = 0;
  for (int64_t j = threadIdx.x; j < vocab; j += blockDim.x)
    if (x[j] > best) best = x[j], idx = j;
  __shared__ float sv[kRowThreads];
  __shared__ int64_t si[kRowThreads];
  sv[threadIdx.x] = best;
  si[threadIdx.x] = idx;
  __syncthreads();
  for (int o = blockDim.x / 2; o > 0; o >>= 1) {
    if (threadIdx.x < o) {
      const float ov = sv[threadIdx.x + o];
      const int64_t oi = si[threadIdx.x + o];
      if (ov > sv[threadIdx.x] || (ov == sv[threadIdx.x] && oi < si[threadIdx.x]))
        sv[threadIdx.x] = ov, si[threadIdx.x] = oi;
    }
    __syncthreads();
  }
  const float mx = sv[0];
  float s = 0.0f;
  for (int64_t j = threadIdx.x; j < vocab; j += blockDim.x) s += __expf(x[j] - mx);
  s = block_sum(s);
  if (threadIdx.x == 0) {
    ids[r] = static_cast<int32_t>(si[0]);
    logprob[r] = -logf(s);  // x[argmax] - logsumexp
  }
}

// One thread per token: softmax over experts, k rounds of "largest remaining" (lower index on ties).
__global__ void moe_topk_kernel(const float* logits, int64_t m, int experts, int k, bool renorm, int32_t* ids,
                                float* w) {
  const int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (t >= m) return;
  const float* x = logits + t * experts;
  float mx = -FLT_MAX;
  for (int e = 0; e < experts; ++e) mx = fmaxf(mx, x[e]);
  float s = 0.0f;
  for (int e = 0; e < experts; ++e) s += expf(x[e] - mx);
  float sum = 0.0f;
  for (int i = 0; i < k; ++i) {
    int best = -1;
    for (int e = 0; e < experts; ++e) {
      bool taken = false;
      for (int j = 0; j < i; ++j) taken |= ids[t * k + j] == e;
      if (!taken && (best < 0 || x[e] > x[best])) best = e;
    }
    ids[t * k + i] = best;
    w[t * k + i] = expf(x[best] - mx) / s;
    sum += w[t * k + i];
  }
  if (renorm)
    for (int i = 0; i < k; ++i) w[t * k + i] /= sum;
}

__global__ void gather_rows_bf16_kernel(const float* src, const int32_t* rows, int64_t h, uint16_t* dst) {
  const int64_t i = blockIdx.x;
  const float* s = src + static_cast<int64_t>(rows[i]) * h;
  for (int64_t j = threadIdx.x; j < h; j += blockDim.x) dst[i * h + j] = to_bf(s[j]);
}

__global__ void scatter_rows_kernel(const float* src, const int32_t* rows, int64_t h, float* dst) {
  const int64_t i = blockIdx.x;
  float* d = dst + static_cast<int64_t>(rows[i]) * h;
  for (int64_t j = threadIdx.x; j < h; j += blockDim.x) d[j] = src[i * h + j];
}

__global__ void moe_combine_kernel(const float* slot_out, const float* w, int k, int64_t h, float* out) {
  const int64_t t = blockIdx.x;
  for (int64_t j = threadIdx.x; j < h; j += blockDim.x) {
    float acc = 0.0f;
    for (int s = 0; s < k; ++s) acc += w[t * k + s] * slot_out[(t * k + s) * h + j];
    out[t * h + j] = acc;
  }
}

__global__ void f32_to_bf16_kernel(const float* src, int64_t n, uint16_t* dst) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    dst[i] = to_bf(src[i]);
}

}  // namespace

void embedding(const uint16_t* table, int64_t hidden, const int32_t* ids, int64_t m, float* out,
               cudaStream_t s) {
  if (m > 0) embedding_kernel<<<static_cast<unsigned>(m), kRowThreads, 0, s>>>(table, hidden, ids, out);
}

void rms_norm(const float* x, const float* w, int64_t m, int64_t n, float eps, uint16_t* y, float* y32,
              cudaStream_t s) {
  if (m > 0)
    rms_norm_kernel<<<static_cast<unsigned>(m), kRowThreads, 0, s>>>(nullptr, nullptr, nullptr, x, nullptr, w,
                                                                     n, eps, y, y32);
}

void add_rms_norm(const float* delta, const float* bias, float* residual, const float* w, int64_t m,
                  int64_t n, float eps, uint16_t* y, float* y32, cudaStream_t s) {
  if (m > 0)
    rms_norm_kernel<<<static_cast<unsigned>(m), kRowThreads, 0, s>>>(delta, bias, residual, nullptr, nullptr,
                                                                     w, n, eps, y, y32);
}

void gather_rms_norm(const float* x, const int32_t* rows, int64_t r, const float* w, int64_t n, float eps,
                     uint16_t* y, cudaStream_t s) {
  if (r > 0)
    rms_norm_kernel<<<static_cast<unsigned>(r), kRowThreads, 0, s>>>(nullptr, nullptr, nullptr, x, rows, w, n,
                                                                     eps, y, nullptr);
}

void rms_norm_inplace(float* x, const float* bias, const float* w, int64_t m, int64_t n, float eps,
                      cudaStream_t s) {
  if (m > 0) rms_norm_inplace_kernel<<<static_cast<unsigned>(m), kRowThreads, 0, s>>>(x, bias, w, n, eps);
}

void silu_mul(const float* gu, int64_t m, int64_t inter, uint16_t* out, cudaStream_t s) {
  if (m > 0) silu_mul_kernel<<<static_cast<unsigned>(m), kRowThreads, 0, s>>>(gu, inter, out);
}

void gelu_tanh_mul(const float* gu, int64_t m, int64_t inter, uint16_t* out, cudaStream_t s) {
  if (m > 0) gelu_tanh_mul_kernel<<<static_cast<unsigned>(m), kRowThreads, 0, s>>>(gu, inter, out);
}

namespace {
// Blocks for a grid-stride kernel over n elements: enough to fill the GPU, never more than n needs.
unsigned stride_blocks(int64_t n) {
  return static_cast<unsigned>(std::min<int64_t>(1024, (n + kRowThreads - 1) / kRowThreads));
}
}  // namespace

void softcap_inplace(float* x, int64_t n, float cap, cudaStream_t s) {
  if (n > 0 && cap > 0) softcap_kernel<<<stride_blocks(n), kRowThreads, 0, s>>>(x, n, cap);
}

void scale_inplace(float* x, int64_t n, float factor, cudaStream_t s) {
  if (n > 0 && factor != 1.0f) scale_kernel<<<stride_blocks(n), kRowThreads, 0, s>>>(x, n, factor);
}

void gated_accumulate(const float* y, const float* gate, int64_t t, int64_t h, float* out, cudaStream_t s) {
  if (t > 0) gated_accumulate_kernel<<<static_cast<unsigned>(t), kRowThreads, 0, s>>>(y, gate, h, out);
}

void residual_moe_combine(const float* dense, int64_t n, float* out, cudaStream_t s) {
  if (n > 0) residual_moe_combine_kernel<<<stride_blocks(n), kRowThreads, 0, s>>>(dense, n, out);
}

void qkv_rope_store(const float* qkv, const QkvParams& p, float* q, uint16_t* k_cache, uint16_t* v_cache,
                    cudaStream_t s) {
  if (p.tokens > 0)
    qkv_rope_store_kernel<<<static_cast<unsigned>(p.tokens), 256, 0, s>>>(qkv, p, q, k_cache, v_cache);
}

void argmax_logprob(const float* logits, int64_t rows, int64_t vocab, int32_t* ids, float* logprob,
                    cudaStream_t s) {
  if (rows > 0)
    argmax_logprob_kernel<<<static_cast<unsigned>(rows), kRowThreads, 0, s>>>(logits, vocab, ids, logprob);
}

void moe_topk_softmax(const float* logits, int64_t m, int experts, int k, bool renorm, int32_t* ids, float* w,
                      cudaStream_t s) {
  if (m > 0)
    moe_topk_kernel<<<static_cast<unsigned>((m + 127) / 128), 128, 0, s>>>(logits, m, experts, k, renorm, ids,
                                                                           w);
}

void gather_rows_bf16(const float* src, const int32_t* rows, int64_t n, int64_t h, uint16_t* dst,
                      cudaStream_t s) {
  if (n > 0) gather_rows_bf16_kernel<<<static_cast<unsigned>(n), kRowThreads, 0, s>>>(src, rows, h, dst);
}

void scatter_rows(const float* src, const int32_t* rows, int64_t n, int64_t h, float* dst, cudaStream_t s) {
  if (n > 0) scatter_rows_kernel<<<static_cast<unsigned>(n), kRowThreads, 0, s>>>(src, rows, h, dst);
}

void moe_combine(const float* slot_out, const float* w, int64_t t, int k, int64_t h, float* out,
                 cudaStream_t s) {
  if (t > 0) moe_combine_kernel<<<static_cast<unsigned>(t), kRowThreads, 0, s>>>(slot_out, w, k, h, out);
}

void f32_to_bf16(const float* src, int64_t n, uint16_t* dst, cudaStream_t s) {
  if (n > 0) f32_to_bf16_kernel<<<1024, 256, 0, s>>>(src, n, dst);
}

}  // namespace sgl::engine::cuda
