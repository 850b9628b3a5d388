// CUDA kernels of the decoder, as host-callable launchers on a stream. Activations: the residual
// stream and GEMM outputs are fp32; GEMM inputs (normed rows, attention output, SiLU·mul) and the
// weights and KV cache are bf16 (stored as raw 16-bit words, as engine/dtype.h does), so every
// GEMM is bf16 × bf16 with fp32 accumulation. Launchers never synchronise.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace sgl::engine::cuda {

// out[i, :] = table[ids[i], :] (bf16 table [vocab, hidden]) as fp32.
void embedding(const uint16_t* table, int64_t hidden, const int32_t* ids, int64_t m, float* out,
               cudaStream_t s);

// Per row of n: y = x / sqrt(mean(x²) + eps) * w (bf16 y; fp32 y32 too when not null).
void rms_norm(const float* x, const float* w, int64_t m, int64_t n, float eps, uint16_t* y, float* y32,
              cudaStream_t s);
// residual += delta (+ bias[n] when not null); y = rms_norm(residual) — fused.
void add_rms_norm(const float* delta, const float* bias, float* residual, const float* w, int64_t m,
                  int64_t n, float eps, uint16_t* y, float* y32, cudaStream_t s);
// Final norm of the logits rows only: y[r] = rms_norm(x[rows[r]]).
void gather_rms_norm(const float* x, const int32_t* rows, int64_t r, const float* w, int64_t n, float eps,
                     uint16_t* y, cudaStream_t s);

// Sandwich norm (Gemma 2, Grok): x = rms_norm(x + bias) in place, fp32 (bias[n] may be null), on a
// block's output before it joins the residual stream.
void rms_norm_inplace(float* x, const float* bias, const float* w, int64_t m, int64_t n, float eps,
                      cudaStream_t s);

// out[M, I] = silu(gu[:, :I]) * gu[:, I:] (gate and up fused as one GEMM output).
void silu_mul(const float* gu, int64_t m, int64_t inter, uint16_t* out, cudaStream_t s);
// GeGLU (Gemma 2, Grok): the same with GELU's tanh form, 0.5·g·(1 + tanh(√(2/π)·(g + 0.044715·g³))),
// computed as cpu::gelu_tanh_mul does: g / (1 + e^{−2z}).
void gelu_tanh_mul(const float* gu, int64_t m, int64_t inter, uint16_t* out, cudaStream_t s);

// x[i] = cap·tanh(x[i]/cap) in place (router and final-logit soft-capping); cap ≤ 0: no launch.
void softcap_inplace(float* x, int64_t n, float cap, cudaStream_t s);
// x[i] *= factor in place (embedding and logit multipliers); factor 1: no launch.
void scale_inplace(float* x, int64_t n, float factor, cudaStream_t s);
// Shared expert: out[t, :] += sigmoid(gate[t]) · y[t, :] per token (Qwen2-MoE); gate null: out += y
// (Bailing's ungated shared experts).
void gated_accumulate(const float* y, const float* gate, int64_t t, int64_t h, float* out, cudaStream_t s);
// Grok's residual MoE: out[i] = (dense[i] + out[i]) / √2, out holding the experts' sum.
void residual_moe_combine(const float* dense, int64_t n, float* out, cudaStream_t s);

// After the QKV GEMM: per token, split q/k/v of `qkv` [T, (Hq + 2·Hkv)·D] (+ bias), RMSNorm each q
// and k head by q_norm/k_norm (when not null), rotate by RoPE (neox layout over the whole head,
// angle = float(position)·inv_freq in fp32 as HF), write q (fp32 [T, Hq, D]) and store k, v in
// the cache at `store_slot[t]` (bf16 [slots, Hkv, D]).
struct QkvParams {
  int64_t tokens = 0;
  int q_heads = 0, kv_heads = 0, head_dim = 0;  // head_dim: even, at most 256
  float eps = 1e-6f;
  const float* bias = nullptr;
  const float* q_norm = nullptr;
  const float* k_norm = nullptr;
  const float* inv_freq = nullptr;
  const int32_t* positions = nullptr;
  const int32_t* store_slot = nullptr;
  // Qwen v1's logn attention: q ×= ln(p + 1)/ln(logn_len) after RoPE where p + 1 > logn_len; 0 = off.
  int64_t logn_len = 0;
};
void qkv_rope_store(const float* qkv, const QkvParams& p, float* q, uint16_t* k_cache, uint16_t* v_cache,
                    cudaStream_t s);

// Paged attention over a ragged batch. Token t sees keys j in [0, kv_len[t]) whose slots are
// kv_slots[kv_base[t] + j]; with mask_off[t] >= 0, a key j >= prefix[t] is seen only when
// mask[mask_off[t] + j - prefix[t]] != 0 (speculative tree), else causally via kv_len.
// Scores are those of cpu::AttentionOptions: q·k·scale, then cap·tanh(s/cap), then × the xAI
// temperature log2(p)/log2(temperature_len) for a query position p > temperature_len; with a
// window, keys j ≤ p − window are masked (and never loaded).
struct AttnParams {
  int64_t tokens = 0;
  int q_heads = 0, kv_heads = 0, head_dim = 0;  // head_dim: 16, 32, 64, 128 or 256
  float scale = 1.0f;
  float softcap = 0.0f;                // 0 = off
  int64_t temperature_len = 0;         // 0 = off
  int64_t window = 0;                  // 0 = the whole prefix
  const int32_t* positions = nullptr;  // query positions; needed when temperature_len or window is set
  const int32_t* kv_slots = nullptr;
  const int32_t* kv_base = nullptr;
  const int32_t* kv_len = nullptr;
  const int32_t* prefix = nullptr;
  const int32_t* mask_off = nullptr;  // may be null: causal everywhere
  const uint8_t* mask = nullptr;
};
// Bytes of scratch the split-KV partial results need for `p` (call before paged_attention).
int64_t attention_workspace_bytes(const AttnParams& p, int num_sms);
// out: bf16 [T, Hq·D]. `workspace` holds attention_workspace_bytes(p, num_sms) bytes.
void paged_attention(const float* q, const uint16_t* k_cache, const uint16_t* v_cache, const AttnParams& p,
                     uint16_t* out, void* workspace, int num_sms, cudaStream_t s);

// Per row: the first index of the maximum logit and its log-softmax value.
void argmax_logprob(const float* logits, int64_t rows, int64_t vocab, int32_t* ids, float* logprob,
                    cudaStream_t s);

// MoE router: softmax over experts, top-k, optional renormalisation (as cpu::moe_topk_softmax).
void moe_topk_softmax(const float* logits, int64_t m, int experts, int k, bool renorm, int32_t* ids, float* w,
                      cudaStream_t s);
// dst[i, :] = bf16(src[rows[i], :]) for the rows routed to one expert.
void gather_rows_bf16(const float* src, const int32_t* rows, int64_t n, int64_t h, uint16_t* dst,
                      cudaStream_t s);
// out[t, :] (+)= sum_s w[t·k + s] · slot_out[(t·k + s), :] in slot order (fixed summation order).
void moe_combine(const float* slot_out, const float* w, int64_t t, int k, int64_t h, float* out,
                 cudaStream_t s);
// dst[rows[i], :] = src[i, :] (fp32): expert outputs back to their (token, slot) rows.
void scatter_rows(const float* src, const int32_t* rows, int64_t n, int64_t h, float* dst, cudaStream_t s);

// fp32 → bf16 (round to nearest even), for uploads of fp32 host data and tests.
void f32_to_bf16(const float* src, int64_t n, uint16_t* dst, cudaStream_t s);

}  // namespace sgl::engine::cuda
