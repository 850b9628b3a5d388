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

// What one query token's scores go through beyond q·k·scale (AttentionOptions): the first key it
// may see (sliding window), the soft-cap and the xAI temperature of its position. Masked keys and
// skipped tiles depend on absolute positions only, so chunking still changes nothing.
struct QueryRule {
  QueryRule(const AttentionOptions& opt, int64_t q_pos) : cap(opt.softcap) {
    if (opt.window > 0) lo = std::max<int64_t>(0, q_pos - opt.window + 1);
    if (opt.temperature_len > 0 && q_pos > opt.temperature_len)
      temperature = static_cast<float>(std::log2(static_cast<double>(q_pos)) /
                                       std::log2(static_cast<double>(opt.temperature_len)));
  }
  int64_t first_tile() const { return lo / kTile * kTile; }
  // Soft-cap, then temperature (SGLang's order for Grok).
  float score(float s) const {
    if (cap > 0) s = cap * tanh_poly(s / cap);
    return s * temperature;
  }
#if defined(__AVX512F__)
  __m512 score16(__m512 s) const {
    if (cap > 0) s = _mm512_mul_ps(_mm512_set1_ps(cap), tanh16(_mm512_div_ps(s, _mm512_set1_ps(cap))));
    return temperature == 1.0f ? s : _mm512_mul_ps(s, _mm512_set1_ps(temperature));
  }
#endif
  int64_t lo = 0;  // keys before this position are outside the window
  float cap = 0.0f, temperature = 1.0f;
};

std::vector<int64_t> segment_token_offsets(const ForwardBatch& batch) {
  std::vector<int64_t> off(batch.segments.size() + 1, 0);
  for (size_t s = 0; s < batch.segments.size(); ++s) off[s + 1] = off[s] + batch.segments[s].new_len;
  return off;
}

template <class T>
void store_row(T* dst, const float* src, int64_t n) {
  if constexpr (std::is_same_v<T, float>) {
    std::memcpy(dst, src, static_cast<size_t>(n) * 4);
  } else if constexpr (std::is_same_v<T, Fp8E4M3>) {
    for (int64_t i = 0; i < n; ++i) dst[i].bits = f32_to_f8e4m3(src[i]);  // scale 1: saturates at ±448
  } else if constexpr (std::is_same_v<T, Fp8E5M2>) {
    for (int64_t i = 0; i < n; ++i) dst[i].bits = f32_to_f8e5m2(src[i]);
  } else {
    f32_to_bf16_row(src, n, dst);
  }
}

// Calls f with the KV element type of `dtype` (a null pointer of it).
template <class F>
void with_kv_type(DType dtype, F&& f) {
  switch (dtype) {
    case DType::kF32:
      f(static_cast<float*>(nullptr));
      break;
    case DType::kF8E4M3:
      f(static_cast<Fp8E4M3*>(nullptr));
      break;
    case DType::kF8E5M2:
      f(static_cast<Fp8E5M2*>(nullptr));
      break;
    default:
      f(static_cast<uint16_t*>(nullptr));
      break;
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
void attend_scalar(const ForwardBatch& batch, const std::vector<int64_t>& off, const float* q, int q_heads,
                   const T* kbase, const T* vbase, int kv_heads, int d, const AttentionOptions& opt,
                   float* out) {
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
          const QueryRule rule(opt, batch.positions[t]);
          std::fill(acc.begin(), acc.end(), 0.0f);
          float m = -std::numeric_limits<float>::infinity(), l = 0.0f;
          for (int64_t t0 = rule.first_tile(); t0 < limit; t0 += kTile) {
            const int64_t t1 = std::min<int64_t>(t0 + kTile, limit);
            float tile_max = -std::numeric_limits<float>::infinity();
            for (int64_t j = t0; j < t1; ++j) {
              bool allowed =
                  j >= rule.lo &&
                  (!tree || j < seg.prefix_len ||
                   seg.tree_mask[static_cast<size_t>(i * seg.new_len + (j - seg.prefix_len))] != 0);
              float s = -std::numeric_limits<float>::infinity();
              if (allowed)
                s = rule.score(dot(qv, kbase + slots[j] * row + static_cast<int64_t>(kvh) * d, d) *
                               opt.scale);
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

#if defined(__AVX512F__)
// The same walk (tiles of kTile absolute positions, online softmax), vectorised: one task per
// (token, kv head) serves every q head of its GQA group, sixteen positions' scores come out of
// one reduce16x16 (each bit-identical to dot()), the exponentials are exp16 and each tile's sum
// of probabilities is a fixed lane-wise sum. Needs head_dim a multiple of 16, at most kMaxDim.
constexpr int kMaxDim = 256;

// Brings the `d` elements of a K or V row towards L1 (a slot's row is read once per head group:
// the next rows are fetched while this tile computes, the pool being cold after a wide LM head).
template <class T>
inline void prefetch_row(const T* p, int d) {
  for (int64_t b = 0; b < static_cast<int64_t>(d * sizeof(T)); b += 64)
    _mm_prefetch(reinterpret_cast<const char*>(p) + b, _MM_HINT_T0);
}

// CH: the head's 16-float chunks, a compile-time bound (d/16 ≤ CH) so q, the accumulators and the
// loops over them stay in registers for the common head sizes.
template <int CH, class T>
void attend_item(const ForwardBatch& batch, const std::vector<int64_t>& off, const int32_t* seg_of,
                 const float* q, int q_heads, const T* kbase, const T* vbase, int kv_heads, int d,
                 const AttentionOptions& opt, int64_t item, float* out) {
  const int group = q_heads / kv_heads, chunks = d / kLanes;
  const int64_t t = item / kv_heads;
  const int g = static_cast<int>(item % kv_heads);
  const Segment& seg = batch.segments[seg_of[t]];
  const int64_t i = t - off[seg_of[t]];
  const bool tree = !seg.tree_mask.empty();
  const int64_t limit = tree ? seg.prefix_len + seg.new_len : seg.prefix_len + i + 1;
  const int32_t* slots = batch.kv_slots.data() + seg.slot_offset;
  const int64_t row = static_cast<int64_t>(kv_heads) * d, head_off = static_cast<int64_t>(g) * d;
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  const QueryRule rule(opt, batch.positions[t]);
  const int64_t start = rule.first_tile();
  for (int hh = 0; hh < group; ++hh) {
    const int64_t th = t * q_heads + static_cast<int64_t>(g) * group + hh;
    __m512 qv[CH], acc[CH];
    for (int c = 0; c < CH; ++c) {
      if (c < chunks) qv[c] = _mm512_loadu_ps(q + th * d + c * kLanes);
      acc[c] = _mm512_setzero_ps();
    }
    if (hh == 0)
      for (int64_t pos = start; pos < std::min<int64_t>(limit, start + kTile); ++pos)
        prefetch_row(kbase + slots[pos] * row + head_off, d);
    float m = kNegInf, l = 0.0f;
    alignas(64) float p[kTile];
    for (int64_t t0 = start; t0 < limit; t0 += kTile) {
      const int64_t t1 = std::min<int64_t>(t0 + kTile, limit);
      const int n = static_cast<int>(t1 - t0);
      // Scores of the tile, sixteen positions at a time (lanes past t1 are masked to -inf).
      __m512 s[kTile / kLanes];
      __m512 tile_max = _mm512_set1_ps(kNegInf);
      for (int b = 0; b * kLanes < n; ++b) {
        __m512 dots[kLanes];
        for (int j = 0; j < kLanes; ++j) {
          const int64_t pos = t0 + b * kLanes + j;
          dots[j] = _mm512_setzero_ps();
          if (pos >= t1) continue;
          if (hh == 0) {
            prefetch_row(vbase + slots[pos] * row + head_off, d);
            if (pos + kTile < limit) prefetch_row(kbase + slots[pos + kTile] * row + head_off, d);
          }
          const T* kr = kbase + slots[pos] * row + head_off;
          for (int c = 0; c < CH; ++c)
            if (c < chunks) dots[j] = _mm512_fmadd_ps(qv[c], load16(kr + c * kLanes), dots[j]);
        }
        __mmask16 valid =
            static_cast<__mmask16>(n - b * kLanes >= kLanes ? 0xFFFFu : (1u << (n - b * kLanes)) - 1);
        if (t0 + b * kLanes < rule.lo) {  // the window's first tile: keys before lo are out
          for (int j = 0; j < kLanes; ++j)
            if (t0 + b * kLanes + j < rule.lo) valid = static_cast<__mmask16>(valid & ~(1u << j));
        }
        if (tree) {
          for (int j = 0; j < kLanes; ++j) {
            const int64_t pos = t0 + b * kLanes + j;
            if (pos >= seg.prefix_len && pos < t1 &&
                seg.tree_mask[static_cast<size_t>(i * seg.new_len + (pos - seg.prefix_len))] == 0)
              valid = static_cast<__mmask16>(valid & ~(1u << j));
          }
        }
        s[b] = _mm512_mask_mov_ps(_mm512_set1_ps(kNegInf), valid,
                                  rule.score16(_mm512_mul_ps(reduce16x16(dots), _mm512_set1_ps(opt.scale))));
        tile_max = _mm512_max_ps(tile_max, s[b]);
      }
      const float tmax = _mm512_reduce_max_ps(tile_max);
      if (tmax == kNegInf) continue;
      const float m_new = std::max(m, tmax);
      const float corr = exp_poly(m - m_new);  // 0 on the first tile
      __m512 sum = _mm512_setzero_ps();
      for (int b = 0; b * kLanes < n; ++b) {
        const __m512 e = exp16(_mm512_sub_ps(s[b], _mm512_set1_ps(m_new)));
        sum = _mm512_add_ps(sum, e);
        _mm512_store_ps(p + b * kLanes, e);
      }
      l = l * corr + reduce16(sum);
      const __m512 cv = _mm512_set1_ps(corr);
      for (int c = 0; c < CH; ++c) acc[c] = _mm512_mul_ps(acc[c], cv);
      for (int j = 0; j < n; ++j) {
        if (p[j] == 0.0f) continue;  // masked (or underflowed): adds nothing
        const T* vr = vbase + slots[t0 + j] * row + head_off;
        const __m512 pv = _mm512_set1_ps(p[j]);
        for (int c = 0; c < CH; ++c)
          if (c < chunks) acc[c] = _mm512_fmadd_ps(pv, load16(vr + c * kLanes), acc[c]);
      }
      m = m_new;
    }
    const __m512 inv = _mm512_set1_ps(l > 0 ? 1.0f / l : 0.0f);
    for (int c = 0; c < CH; ++c)
      if (c < chunks) _mm512_storeu_ps(out + th * d + c * kLanes, _mm512_mul_ps(acc[c], inv));
  }
}

template <class T>
void attend(const ForwardBatch& batch, const std::vector<int64_t>& off, const float* q, int q_heads,
            const T* kbase, const T* vbase, int kv_heads, int d, const AttentionOptions& opt, float* out) {
  if (d % kLanes != 0 || d > kMaxDim || q_heads % kv_heads != 0) {
    attend_scalar(batch, off, q, q_heads, kbase, vbase, kv_heads, d, opt, out);
    return;
  }
  const int64_t total = off.back();
  std::vector<int32_t> seg_of(static_cast<size_t>(total));
  int64_t work = 0;  // positions × q heads × d: the multiply-adds of the scores
  for (size_t s = 0; s + 1 < off.size(); ++s) {
    const Segment& seg = batch.segments[s];
    for (int64_t t = off[s]; t < off[s + 1]; ++t) {
      seg_of[t] = static_cast<int32_t>(s);
      work += (seg.prefix_len + (seg.tree_mask.empty() ? t - off[s] + 1 : seg.new_len)) * q_heads * d;
    }
  }
  const int64_t items = total * kv_heads;
  auto run = [&](int64_t a, int64_t b) {
    for (int64_t it = a; it < b; ++it) {
      if (d == 64)
        attend_item<4>(batch, off, seg_of.data(), q, q_heads, kbase, vbase, kv_heads, d, opt, it, out);
      else if (d == 128)
        attend_item<8>(batch, off, seg_of.data(), q, q_heads, kbase, vbase, kv_heads, d, opt, it, out);
      else
        attend_item<kMaxDim / kLanes>(batch, off, seg_of.data(), q, q_heads, kbase, vbase, kv_heads, d, opt,
                                      it, out);
    }
  };
  // A decode step of a small model (a few hundred positions × a few heads) is done in a few µs:
  // cheaper on this thread than waking another.
  if (work < (int64_t{1} << 18)) {
    run(0, items);
    return;
  }
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, items, 1),
                    [&](const tbb::blocked_range<int64_t>& r) { run(r.begin(), r.end()); });
}
#else
template <class T>
void attend(const ForwardBatch& batch, const std::vector<int64_t>& off, const float* q, int q_heads,
            const T* kbase, const T* vbase, int kv_heads, int d, const AttentionOptions& opt, float* out) {
  attend_scalar(batch, off, q, q_heads, kbase, vbase, kv_heads, d, opt, out);
}
#endif

}  // namespace

void kv_store(const ForwardBatch& batch, const float* k, const float* v, const KvLayer& kv) {
  auto off = segment_token_offsets(batch);
  const int64_t row = static_cast<int64_t>(kv.num_kv_heads) * kv.head_dim;
  auto store = [&](const tbb::blocked_range<size_t>& r) {
    for (size_t s = r.begin(); s < r.end(); ++s) {
      const Segment& seg = batch.segments[s];
      for (int64_t i = 0; i < seg.new_len; ++i) {
        const int64_t t = off[s] + i;
        const int64_t slot = batch.kv_slots[static_cast<size_t>(seg.slot_offset + seg.prefix_len + i)];
        with_kv_type(kv.dtype, [&](auto* type) {
          using T = std::remove_pointer_t<decltype(type)>;
          store_row(static_cast<T*>(kv.k) + slot * row, k + t * row, row);
          store_row(static_cast<T*>(kv.v) + slot * row, v + t * row, row);
        });
      }
    }
  };
  const tbb::blocked_range<size_t> all(0, batch.segments.size());
  if (off.back() * row <= (int64_t{1} << 14)) {  // a decode step's few rows: this thread
    store(all);
    return;
  }
  tbb::parallel_for(all, store);
}

void paged_attention(const ForwardBatch& batch, const float* q, int q_heads, const KvLayer& kv,
                     const AttentionOptions& opt, float* out) {
  auto off = segment_token_offsets(batch);
  with_kv_type(kv.dtype, [&](auto* type) {
    using T = std::remove_pointer_t<decltype(type)>;
    attend(batch, off, q, q_heads, static_cast<const T*>(kv.k), static_cast<const T*>(kv.v), kv.num_kv_heads,
           kv.head_dim, opt, out);
  });
}

}  // namespace sgl::engine::cpu
