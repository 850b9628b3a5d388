// Attention over paged KV for ragged segments.
//
// Each (token, q-head) walks its visible KV positions in tiles of kTile ABSOLUTE positions
// ([0,64), [64,128), ...) with an online softmax (FlashAttention's running max and sum). Because
// tile boundaries depend on positions only, a token computed in a 1-token decode, a 7-token chunk
// or a whole prefill performs the same arithmetic: outputs are bitwise identical.
#include <tbb/parallel_for.h>

#include <cmath>
#include <limits>
#include <vector>

#include "engine/cpu/kernels.h"
#include "engine/cpu/simd.h"

namespace sgl::engine::cpu {

namespace {

constexpr int kTile = 64;

std::vector<int64_t> segment_token_offsets(const ForwardBatch& batch) {
  std::vector<int64_t> off(batch.segments.size() + 1, 0);
  for (size_t s = 0; s < batch.segments.size(); ++s) off[s + 1] = off[s] + batch.segments[s].new_len;
  return off;
}

template <class T>
void store_row(T* dst, const float* src, int64_t n) {
  if constexpr (std::is_same_v<T, float>) {
    std::memcpy(dst, src, static_cast<size_t>(n) * 4);
  } else {
    for (int64_t i = 0; i < n; ++i) dst[i] = f32_to_bf16(src[i]);
  }
}

// acc[0:d] += p · v[0:d], vectorised when d is a multiple of 16 (head_dim 64/128 always are).
template <class T>
inline void axpy(float p, const T* v, float* acc, int d) {
#if defined(__AVX512F__)
  if (d % kLanes == 0) {
    const __m512 pv = _mm512_set1_ps(p);
    for (int c = 0; c < d; c += kLanes)
      _mm512_storeu_ps(acc + c, _mm512_fmadd_ps(pv, load16(v + c), _mm512_loadu_ps(acc + c)));
    return;
  }
#endif
  for (int c = 0; c < d; ++c) acc[c] = std::fma(p, to_f32(v[c]), acc[c]);
}

template <class T>
void attend(const ForwardBatch& batch, const std::vector<int64_t>& off, const float* q, int q_heads,
            const T* kbase, const T* vbase, int kv_heads, int d, float scale, float* out) {
  const int64_t total = off.back();
  const int group = q_heads / kv_heads;
  // Token index → segment.
  std::vector<int32_t> seg_of(static_cast<size_t>(total));
  for (size_t s = 0; s + 1 < off.size(); ++s)
    for (int64_t t = off[s]; t < off[s + 1]; ++t) seg_of[t] = static_cast<int32_t>(s);
  const int64_t row = static_cast<int64_t>(kv_heads) * d;
  tbb::parallel_for(
      tbb::blocked_range<int64_t>(0, total * q_heads, 1), [&](const tbb::blocked_range<int64_t>& r) {
        std::vector<float> acc(static_cast<size_t>(d));
        float scores[kTile];
        for (int64_t th = r.begin(); th < r.end(); ++th) {
          const int64_t t = th / q_heads;
          const int h = static_cast<int>(th % q_heads);
          const Segment& seg = batch.segments[seg_of[t]];
          const int64_t i = t - off[seg_of[t]];            // index among the segment's new tokens
          const int64_t visible = seg.prefix_len + i + 1;  // causal: prefix + new tokens up to itself
          const bool tree = !seg.tree_mask.empty();
          const int64_t limit = tree ? seg.prefix_len + seg.new_len : visible;
          const int32_t* slots = batch.kv_slots.data() + seg.slot_offset;
          const float* qv = q + th * d;
          const int kvh = h / group;
          std::fill(acc.begin(), acc.end(), 0.0f);
          float m = -std::numeric_limits<float>::infinity(), l = 0.0f;
          for (int64_t t0 = 0; t0 < limit; t0 += kTile) {
            const int64_t t1 = std::min<int64_t>(t0 + kTile, limit);
            float tile_max = -std::numeric_limits<float>::infinity();
            for (int64_t j = t0; j < t1; ++j) {
              bool allowed = !tree || j < seg.prefix_len ||
                             seg.tree_mask[static_cast<size_t>(i * seg.new_len + (j - seg.prefix_len))] != 0;
              float s = -std::numeric_limits<float>::infinity();
              if (allowed) s = dot(qv, kbase + slots[j] * row + static_cast<int64_t>(kvh) * d, d) * scale;
              scores[j - t0] = s;
              tile_max = std::max(tile_max, s);
            }
            if (tile_max == -std::numeric_limits<float>::infinity()) continue;
            const float m_new = std::max(m, tile_max);
            const float corr = std::exp(m - m_new);  // exp(-inf) = 0 on the first tile
            l *= corr;
            for (int c = 0; c < d; ++c) acc[c] *= corr;
            for (int64_t j = t0; j < t1; ++j) {
              if (scores[j - t0] == -std::numeric_limits<float>::infinity()) continue;
              const float p = std::exp(scores[j - t0] - m_new);
              l += p;
              const T* vv = vbase + slots[j] * row + static_cast<int64_t>(kvh) * d;
              axpy(p, vv, acc.data(), d);
            }
            m = m_new;
          }
          float* o = out + th * d;
          const float inv = l > 0 ? 1.0f / l : 0.0f;
          for (int c = 0; c < d; ++c) o[c] = acc[c] * inv;
        }
      });
}

}  // namespace

void kv_store(const ForwardBatch& batch, const float* k, const float* v, const KvLayer& kv) {
  auto off = segment_token_offsets(batch);
  const int64_t row = static_cast<int64_t>(kv.num_kv_heads) * kv.head_dim;
  tbb::parallel_for(
      tbb::blocked_range<size_t>(0, batch.segments.size()), [&](const tbb::blocked_range<size_t>& r) {
        for (size_t s = r.begin(); s < r.end(); ++s) {
          const Segment& seg = batch.segments[s];
          for (int64_t i = 0; i < seg.new_len; ++i) {
            const int64_t t = off[s] + i;
            const int64_t slot = batch.kv_slots[static_cast<size_t>(seg.slot_offset + seg.prefix_len + i)];
            if (kv.dtype == DType::kF32) {
              store_row(static_cast<float*>(kv.k) + slot * row, k + t * row, row);
              store_row(static_cast<float*>(kv.v) + slot * row, v + t * row, row);
            } else {
              store_row(static_cast<uint16_t*>(kv.k) + slot * row, k + t * row, row);
              store_row(static_cast<uint16_t*>(kv.v) + slot * row, v + t * row, row);
            }
          }
        }
      });
}

void paged_attention(const ForwardBatch& batch, const float* q, int q_heads, const KvLayer& kv, float scale,
                     float* out) {
  auto off = segment_token_offsets(batch);
  if (kv.dtype == DType::kF32) {
    attend(batch, off, q, q_heads, static_cast<const float*>(kv.k), static_cast<const float*>(kv.v),
           kv.num_kv_heads, kv.head_dim, scale, out);
  } else {
    attend(batch, off, q, q_heads, static_cast<const uint16_t*>(kv.k), static_cast<const uint16_t*>(kv.v),
           kv.num_kv_heads, kv.head_dim, scale, out);
  }
}

}  // namespace sgl::engine::cpu
