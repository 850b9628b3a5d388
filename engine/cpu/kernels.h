// CPU kernels the models are built from. All activations are fp32, row-major; weights may be
// bf16 or fp32 (fp32 accumulation always). Every kernel computes each output row with the same
// arithmetic whatever the number of rows (M) or the batch composition: a request's logits must be
// bitwise identical alone, batched, or chunked (tests hold the engine to it).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/dtype.h"
#include "engine/forward_batch.h"

namespace sgl::engine::cpu {

// ---- GEMM -----------------------------------------------------------------------------------
// A weight matrix W [N, K] (HF layout: out_features x in_features) prepared once for fast
// y = x · Wᵀ. Owns its (possibly re-laid-out) copy; `reload` rewrites it in place (weight swap).
struct QuantWeight;  // engine/cpu/quant_weight.h

class PackedWeight {
 public:
  PackedWeight();
  ~PackedWeight();
  PackedWeight(PackedWeight&&) noexcept;
  PackedWeight& operator=(PackedWeight&&) noexcept;

  // `src` points at N*K elements of `src_type`; stored as `compute_type` (kF32 or kBF16).
  static PackedWeight pack(const void* src, DType src_type, int64_t n, int64_t k, DType compute_type);
  // A quantized weight (engine/cpu/quant_weight.h); linear() runs the quantized kernel on it.
  static PackedWeight quantized(QuantWeight w);
  QuantWeight* quant();  // null for a float weight
  const QuantWeight* quant() const;
  // Same shape required; keeps the allocation.
  void reload(const void* src, DType src_type);

  int64_t n() const;
  int64_t k() const;
  DType dtype() const;
  int64_t bytes() const;
  // n*k row-major elements of dtype(), filled in place by weight loaders (a weight laid out in
  // output lanes goes back to rows first).
  void* mutable_data();
  // The rows as n*k row-major elements of dtype(): the storage itself, or `scratch` holding a copy
  // when the weight is laid out in output lanes (e.g. for an upload to another device).
  const void* row_major_data(std::vector<uint16_t>& scratch) const;

  // Lays a bf16 weight out with 16 outputs per SIMD vector (engine/cpu/gemm_lanes.h): no
  // horizontal reduction per output, which makes multi-row products of a wide matrix with a
  // short K (a small model's LM head under speculative verification) cheaper. The summation
  // order of this weight's outputs changes, for every M alike. No-op for fp32 or without
  // AVX512-BF16.
  void use_output_lanes();
  bool output_lanes() const;
  // Lays a bf16 weight out in AMX tiles (engine/cpu/gemm_amx.h) when the CPU and OS allow AMX:
  // ~10× the AVX512-BF16 FLOPs for prefill and batched decode. The summation order changes, for
  // every M alike. No-op otherwise.
  void use_amx_tiles();
  bool amx_tiles() const;
  // The layout policy: output lanes when K is short (≤ kLanesMaxK), where the row-major
  // kernel's per-output reduction costs as much as the products — every GEMM of a small model
  // (its layers, LM head, a draft head). A long K amortises the reduction and the row-major tiles
  // reuse W better across prefill rows, so such weights stay in rows.
  static constexpr int64_t kLanesMaxK = 512;
  // With AMX every bf16 weight goes in tiles instead.
  void lay_out_for_kernels() {
    use_amx_tiles();
    if (k() <= kLanesMaxK) use_output_lanes();
  }

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  friend void linear(const float*, int64_t, const PackedWeight&, const float*, float*);
};

// Converts `count` elements between dtypes (dst kF32 or kBF16), in parallel.
void convert_tensor(const void* src, DType src_type, int64_t count, DType dst_type, void* dst);

// y[M,N] = x[M,K] · Wᵀ (+ bias[N] when not null). Parallel over N (and M) with oneTBB.
void linear(const float* x, int64_t m, const PackedWeight& w, const float* bias, float* y);

// ---- elementwise / norms --------------------------------------------------------------------
// Embedding rows: out[i,:] = table[ids[i], :] (table is vocab x hidden of `table_type`).
void embedding(const void* table, DType table_type, int64_t hidden, const int32_t* ids, int64_t m,
               float* out);

// y = x / sqrt(mean(x²) + eps) * w, over rows of n (y may alias x). w is fp32.
void rms_norm(const float* x, const float* w, int64_t m, int64_t n, float eps, float* y);
// residual += x; y = rms_norm(residual) — the pre-norm of the next block, fused.
void add_rms_norm(const float* x, float* residual, const float* w, int64_t m, int64_t n, float eps, float* y);

// out[M,I] = silu(gate_up[:, :I]) * gate_up[:, I:] (gate and up fused as one [M, 2I] GEMM output).
void silu_mul(const float* gate_up, int64_t m, int64_t inter, float* out);
// The same with GELU's tanh form, 0.5·g·(1 + tanh(√(2/π)·(g + 0.044715·g³))) (GeGLU: Gemma 2, Grok).
void gelu_tanh_mul(const float* gate_up, int64_t m, int64_t inter, float* out);
// x[i] = cap·tanh(x[i]/cap) in place (logit soft-capping); cap ≤ 0 leaves x alone.
void softcap(float* x, int64_t n, float cap);
// x[i] *= s in place.
void scale(float* x, int64_t n, float s);
// Σ exp(x[i] − mx) over n floats (a softmax's normaliser), vectorised; a fixed summation order.
float sum_exp(const float* x, int64_t n, float mx);

// ---- rotary ---------------------------------------------------------------------------------
// Inverse frequencies for RoPE (neox / rotate_half layout as HF Qwen/Llama). Supports plain
// theta and `rope_scaling` types "default", "linear" and "llama3".
struct RopeConfig {
  int64_t rotary_dim = 0;  // usually head_dim
  double theta = 10000.0;
  std::string scaling_type = "default";
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position = 8192;
};
class Rope {
 public:
  explicit Rope(const RopeConfig& cfg);
  // In place on x[T, heads, head_dim], token t at positions[t].
  void apply(float* x, int64_t t, int64_t heads, int64_t head_dim, const int32_t* positions) const;
  // The same in two steps, so that q, k and every layer of a forward share one table: cs[T,
  // table_width()] holds each token's cos then sin, then apply() rotates with it.
  int64_t table_width() const { return 2 * half_; }
  void table(const int32_t* positions, int64_t t, float* cs) const;
  void apply(float* x, int64_t t, int64_t heads, int64_t head_dim, const float* cs) const;
  std::span<const float> inv_freq() const { return {inv_freq_.get(), static_cast<size_t>(half_)}; }

 private:
  std::unique_ptr<float[]> inv_freq_;
  int64_t half_ = 0;
};

// ---- attention over paged KV ----------------------------------------------------------------
// One layer's KV pool: slot-major [num_slots, num_kv_heads, head_dim] for K and for V.
struct KvLayer {
  void* k = nullptr;
  void* v = nullptr;
  DType dtype = DType::kF32;  // kF32 or kBF16
  int64_t num_slots = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
};

// Writes the new tokens' K/V (fp32 [T, kv_heads, head_dim]) into their slots: for each segment,
// kv_slots[slot_offset + prefix_len + i] for its i-th new token.
void kv_store(const ForwardBatch& batch, const float* k, const float* v, const KvLayer& kv);

// How one layer turns q·k into scores. The defaults are plain scaled dot-product attention.
struct AttentionOptions {
  float scale = 1.0f;
  float softcap = 0.0f;         // s = cap·tanh(s/cap) after scaling (Gemma 2, Grok); 0 = off
  int64_t temperature_len = 0;  // xAI temperature (Grok): s ×= log2(p)/log2(len) for query position
                                // p > len, after the cap; 0 = off
  int64_t window = 0;           // sliding window: a query at position p sees keys at positions
                                // > p − window (itself included); 0 = the whole prefix
};

// out[T, q_heads, head_dim] = softmax(score(q·Kᵀ))·V per segment: each new token attends to the
// segment's prefix (within the window) and causally to the new tokens up to itself (or per
// Segment::tree_mask). GQA: q head h uses kv head h / (q_heads / kv_heads). Online softmax over KV
// tiles whose boundaries depend only on absolute positions, so results are independent of
// chunking; tiles wholly outside a window are skipped.
void paged_attention(const ForwardBatch& batch, const float* q, int q_heads, const KvLayer& kv,
                     const AttentionOptions& opt, float* out);
inline void paged_attention(const ForwardBatch& batch, const float* q, int q_heads, const KvLayer& kv,
                            float scale, float* out) {
  paged_attention(batch, q, q_heads, kv, AttentionOptions{.scale = scale}, out);
}

// ---- MoE routing ----------------------------------------------------------------------------
// softmax over experts (all of them), top-k per row; weights renormalised to sum 1 when
// norm_topk_prob.
void moe_topk_softmax(const float* router_logits, int64_t m, int num_experts, int top_k, bool norm_topk_prob,
                      int32_t* topk_ids, float* topk_weights);

}  // namespace sgl::engine::cpu
