// kv_store + paged_attention: values against a double-precision softmax reference over ragged
// segments (prefix + new tokens), page sizes 1/16/64/128, GQA, tree masks, f32 and bf16 KV; and
// bitwise invariance under chunking, batching and paging.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "engine/cpu/kernels.h"

namespace sgl::engine::cpu {
namespace {

struct Dims {
  int q_heads, kv_heads, head_dim;
};

// One request: every position's K/V and Q, and the KV slots its pages give it.
struct Request {
  int len = 0;
  std::vector<float> k, v, q;      // [len, kv_heads, d], [len, kv_heads, d], [len, q_heads, d]
  std::vector<int32_t> slots;      // [len]
  std::vector<uint8_t> tree_mask;  // optional, for the last step's new tokens
};

std::vector<float> random_floats(size_t n, std::mt19937& rng, float scale) {
  std::uniform_real_distribution<float> d(-scale, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// A KV pool of whole pages; pages are handed to requests in a shuffled order so the slot
// indirection is exercised (a request's pages are not contiguous).
class Pool {
 public:
  Pool(const Dims& dims, int64_t num_slots, int page_size, DType dtype, uint32_t seed)
      : page_size_(page_size) {
    const size_t elems = static_cast<size_t>(num_slots) * dims.kv_heads * dims.head_dim;
    if (dtype == DType::kF32) {
      kf_.assign(elems, NAN);
      vf_.assign(elems, NAN);
    } else {
      kb_.assign(elems, 0x7fc0);  // NaN: a wrongly read slot poisons the output
      vb_.assign(elems, 0x7fc0);
    }
    layer_.k = dtype == DType::kF32 ? static_cast<void*>(kf_.data()) : kb_.data();
    layer_.v = dtype == DType::kF32 ? static_cast<void*>(vf_.data()) : vb_.data();
    layer_.dtype = dtype;
    layer_.num_slots = num_slots;
    layer_.num_kv_heads = dims.kv_heads;
    layer_.head_dim = dims.head_dim;
    free_pages_.resize(static_cast<size_t>(num_slots / page_size));
    std::iota(free_pages_.begin(), free_pages_.end(), 0);
    std::mt19937 rng(seed);
    std::shuffle(free_pages_.begin(), free_pages_.end(), rng);
  }
  void assign_slots(Request& r) {
    r.slots.resize(static_cast<size_t>(r.len));
    int32_t page = -1;
    for (int p = 0; p < r.len; ++p) {
      if (p % page_size_ == 0) {
        page = free_pages_.back();
        free_pages_.pop_back();
      }
      r.slots[p] = page * page_size_ + p % page_size_;
    }
  }
  const KvLayer& layer() const { return layer_; }

 private:
  int page_size_;
  std::vector<float> kf_, vf_;
  std::vector<uint16_t> kb_, vb_;
  std::vector<int32_t> free_pages_;
  KvLayer layer_;
};

Request make_request(const Dims& dm, int len, std::mt19937& rng) {
  Request r;
  r.len = len;
  r.k = random_floats(static_cast<size_t>(len) * dm.kv_heads * dm.head_dim, rng, 1.0f);
  r.v = random_floats(static_cast<size_t>(len) * dm.kv_heads * dm.head_dim, rng, 1.0f);
  r.q = random_floats(static_cast<size_t>(len) * dm.q_heads * dm.head_dim, rng, 1.0f);
  return r;
}

struct Part {
  Request* req;
  int prefix, count;  // compute positions [prefix, prefix + count)
  bool use_mask = false;
};

// One forward step over several requests: stores the new K/V, then attends. Returns each part's
// output [count, q_heads, d].
std::vector<std::vector<float>> step(const Dims& dm, const std::vector<Part>& parts, Pool& pool,
                                     const AttentionOptions& opt) {
  ForwardBatch b;
  std::vector<float> k, v, q;
  const size_t krow = static_cast<size_t>(dm.kv_heads) * dm.head_dim,
               qrow = static_cast<size_t>(dm.q_heads) * dm.head_dim;
  for (const Part& p : parts) {
    Segment s;
    s.prefix_len = p.prefix;
    s.new_len = p.count;
    s.slot_offset = static_cast<int64_t>(b.kv_slots.size());
    s.logits_start = p.count - 1;
    if (p.use_mask) s.tree_mask = p.req->tree_mask;
    b.segments.push_back(s);
    b.kv_slots.insert(b.kv_slots.end(), p.req->slots.begin(), p.req->slots.begin() + p.prefix + p.count);
    for (int i = p.prefix; i < p.prefix + p.count; ++i) {
      b.input_ids.push_back(0);
      b.positions.push_back(i);
      k.insert(k.end(), p.req->k.begin() + i * krow, p.req->k.begin() + (i + 1) * krow);
      v.insert(v.end(), p.req->v.begin() + i * krow, p.req->v.begin() + (i + 1) * krow);
      q.insert(q.end(), p.req->q.begin() + i * qrow, p.req->q.begin() + (i + 1) * qrow);
    }
  }
  kv_store(b, k.data(), v.data(), pool.layer());
  std::vector<float> out(q.size(), NAN);
  paged_attention(b, q.data(), dm.q_heads, pool.layer(), opt, out.data());
  std::vector<std::vector<float>> res;
  size_t off = 0;
  for (const Part& p : parts) {
    res.emplace_back(out.begin() + off, out.begin() + off + p.count * qrow);
    off += p.count * qrow;
  }
  return res;
}

double kv_value(const std::vector<float>& src, size_t i, DType dt) {
  return dt == DType::kF32 ? src[i] : bf16_to_f32(f32_to_bf16(src[i]));
}

// Double-precision reference for positions [prefix, prefix + count) of `r`.
void check_against_reference(const Dims& dm, const Request& r, int prefix, int count, bool use_mask,
                             const std::vector<float>& out, DType kv_dtype, const AttentionOptions& opt) {
  const int d = dm.head_dim, group = dm.q_heads / dm.kv_heads;
  for (int i = 0; i < count; ++i) {
    const int pos = prefix + i;
    for (int h = 0; h < dm.q_heads; ++h) {
      const int kvh = h / group;
      std::vector<double> s;
      std::vector<int> js;
      for (int j = 0; j < (use_mask ? prefix + count : pos + 1); ++j) {
        if (use_mask && j >= prefix && !r.tree_mask[static_cast<size_t>(i * count + (j - prefix))]) continue;
        if (opt.window > 0 && pos - j >= opt.window) continue;  // outside the sliding window
        double dot = 0;
        for (int c = 0; c < d; ++c)
          dot += static_cast<double>(r.q[(static_cast<size_t>(pos) * dm.q_heads + h) * d + c]) *
                 kv_value(r.k, (static_cast<size_t>(j) * dm.kv_heads + kvh) * d + c, kv_dtype);
        double sc = dot * opt.scale;
        if (opt.softcap > 0) sc = opt.softcap * std::tanh(sc / opt.softcap);
        if (opt.temperature_len > 0 && pos > opt.temperature_len)
          sc *= std::log2(static_cast<double>(pos)) / std::log2(static_cast<double>(opt.temperature_len));
        s.push_back(sc);
        js.push_back(j);
      }
      const double mx = *std::max_element(s.begin(), s.end());
      double sum = 0;
      for (auto& x : s) sum += (x = std::exp(x - mx));
      for (int c = 0; c < d; ++c) {
        double ref = 0;
        for (size_t t = 0; t < js.size(); ++t)
          ref +=
              s[t] / sum * kv_value(r.v, (static_cast<size_t>(js[t]) * dm.kv_heads + kvh) * d + c, kv_dtype);
        ASSERT_NEAR(out[(static_cast<size_t>(i) * dm.q_heads + h) * d + c], ref, 2e-5)
            << "token " << pos << " head " << h << " dim " << c;
      }
    }
  }
}

void run_ragged(const Dims& dm, int page_size, DType kv_dtype, AttentionOptions opt = {}) {
  SCOPED_TRACE(::testing::Message() << "page_size=" << page_size << " kv=" << dtype_name(kv_dtype)
                                    << " heads=" << dm.q_heads << "/" << dm.kv_heads << " d=" << dm.head_dim
                                    << " cap=" << opt.softcap << " window=" << opt.window
                                    << " temperature_len=" << opt.temperature_len);
  std::mt19937 rng(42);
  Pool pool(dm, 4096, page_size, kv_dtype, 7);
  opt.scale = 1.0f / std::sqrt(static_cast<float>(dm.head_dim));
  // (prefix, new): a fresh prefill, a chunk after a long prefix, a decode, a chunk crossing tiles.
  const std::vector<std::pair<int, int>> shapes = {{0, 5}, {70, 3}, {130, 1}, {10, 66}, {4, 6}};
  std::vector<Request> reqs;
  for (auto [pre, n] : shapes) reqs.push_back(make_request(dm, pre + n, rng));
  // Last request verifies a draft tree: each token sees itself and a random subset of earlier ones.
  Request& tr = reqs.back();
  tr.tree_mask.assign(36, 0);
  std::bernoulli_distribution coin(0.5);
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j <= i; ++j) tr.tree_mask[i * 6 + j] = j == i || coin(rng);
  for (auto& r : reqs) pool.assign_slots(r);
  // Fill the prefixes (one batch of prefill segments), then the mixed step under test.
  std::vector<Part> prefill, mixed;
  for (size_t i = 0; i < reqs.size(); ++i) {
    if (shapes[i].first > 0) prefill.push_back({&reqs[i], 0, shapes[i].first});
    mixed.push_back({&reqs[i], shapes[i].first, shapes[i].second, i + 1 == reqs.size()});
  }
  step(dm, prefill, pool, opt);
  auto outs = step(dm, mixed, pool, opt);
  for (size_t i = 0; i < reqs.size(); ++i)
    check_against_reference(dm, reqs[i], shapes[i].first, shapes[i].second, mixed[i].use_mask, outs[i],
                            kv_dtype, opt);
}

TEST(KernelsAttention, RaggedSegmentsMatchReferenceAtAllPageSizes) {
  for (int ps : {1, 16, 64, 128}) run_ragged({4, 2, 64}, ps, DType::kF32);
}

TEST(KernelsAttention, GqaOddHeadDimAndBf16Kv) {
  run_ragged({6, 2, 20}, 16, DType::kF32);    // group 3, head_dim not a multiple of 16
  run_ragged({8, 1, 128}, 64, DType::kBF16);  // multi-query, bf16 pool
  run_ragged({4, 4, 32}, 1, DType::kBF16);    // plain MHA
}

// Gemma 2 / Grok scores: soft-cap (small enough to bite on these random q·k), a sliding window
// shorter than the prefixes (the 70- and 130-token prefixes span whole skipped tiles), and the xAI
// temperature past position 40; vector (d 64) and scalar (d 20) kernels.
TEST(KernelsAttention, SoftcapWindowAndTemperatureMatchReference) {
  for (int ps : {1, 16}) {
    run_ragged({4, 2, 64}, ps, DType::kF32, {.softcap = 0.5f, .window = 20});
    run_ragged({4, 2, 64}, ps, DType::kBF16, {.softcap = 0.5f, .temperature_len = 40});
    run_ragged({6, 2, 20}, ps, DType::kF32, {.softcap = 0.5f, .temperature_len = 40, .window = 7});
  }
  run_ragged({8, 1, 128}, 64, DType::kBF16, {.window = 65});
}

TEST(KernelsAttention, KvStoreWritesRoundedRowsIntoTheirSlots) {
  const Dims dm{2, 2, 16};
  std::mt19937 rng(3);
  Pool pool(dm, 256, 16, DType::kBF16, 1);
  Request r = make_request(dm, 20, rng);
  pool.assign_slots(r);
  step(dm, {{&r, 0, 20}}, pool, {.scale = 1.0f});
  const auto* kp = static_cast<const uint16_t*>(pool.layer().k);
  const auto* vp = static_cast<const uint16_t*>(pool.layer().v);
  for (int p = 0; p < 20; ++p)
    for (int c = 0; c < 32; ++c) {
      ASSERT_EQ(kp[r.slots[p] * 32 + c], f32_to_bf16(r.k[p * 32 + c]));
      ASSERT_EQ(vp[r.slots[p] * 32 + c], f32_to_bf16(r.v[p * 32 + c]));
    }
}

// The same request (150 tokens) computed at once, in chunks of 1 / 7 / 64 tokens (each chunk
// attending to the cached prefix), alone or next to other requests, at page sizes 1 and 64:
// every token's output is bitwise identical.
void check_chunk_invariance(DType kv_dtype, AttentionOptions opt = {.scale = 0.125f}) {
  SCOPED_TRACE(dtype_name(kv_dtype));
  const Dims dm{4, 2, 64};
  const int len = 150;
  std::mt19937 rng(11);
  const Request proto = make_request(dm, len, rng);
  const Request other = make_request(dm, 90, rng);
  auto run = [&](int chunk, int page_size, bool with_others) {
    Pool pool(dm, 2048, page_size, kv_dtype, 5);
    Request r = proto, o = other;
    pool.assign_slots(r);
    pool.assign_slots(o);
    std::vector<float> all;
    for (int p = 0, op = 0; p < len; p += chunk) {
      const int n = std::min(chunk, len - p);
      std::vector<Part> parts;
      if (with_others && op < o.len) {
        const int on = std::min(13, o.len - op);
        parts.push_back({&o, op, on});
        op += on;
      }
      parts.push_back({&r, p, n});
      auto outs = step(dm, parts, pool, opt);
      all.insert(all.end(), outs.back().begin(), outs.back().end());
    }
    return all;
  };
  const auto whole = run(len, 16, false);
  const size_t per_token = static_cast<size_t>(dm.q_heads) * dm.head_dim;
  for (auto [chunk, ps, others] : {std::tuple{1, 16, false}, std::tuple{7, 1, true}, std::tuple{64, 64, true},
                                   std::tuple{150, 1, true}, std::tuple{7, 128, false}}) {
    const auto got = run(chunk, ps, others);
    ASSERT_EQ(got.size(), whole.size());
    for (int t = 0; t < len; ++t)
      ASSERT_EQ(std::memcmp(got.data() + t * per_token, whole.data() + t * per_token, per_token * 4), 0)
          << "token " << t << " chunk " << chunk << " page " << ps << " others " << others;
  }
}

TEST(KernelsAttention, ChunkedBatchedAndPagedBitwiseEqualF32) { check_chunk_invariance(DType::kF32); }
TEST(KernelsAttention, ChunkedBatchedAndPagedBitwiseEqualBf16) { check_chunk_invariance(DType::kBF16); }
TEST(KernelsAttention, SlidingWindowChunkedBatchedAndPagedBitwiseEqual) {
  check_chunk_invariance(DType::kBF16, {.scale = 0.125f, .softcap = 20.0f, .temperature_len = 64, .window = 16});
  check_chunk_invariance(DType::kF32, {.scale = 0.125f, .window = 100});
}

}  // namespace
}  // namespace sgl::engine::cpu
