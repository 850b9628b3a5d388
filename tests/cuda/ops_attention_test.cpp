// Paged attention on the GPU against the CPU kernel: ragged batches (decode, prefill, extend, a
// speculative tree mask), page sizes 1/16/128, head_dim 64/128, GQA ratios 1/4/8; then the
// families' score options (soft-cap, sliding window smaller than the prefix, xAI temperature) with
// the same cpu::AttentionOptions on both sides.
#include <gtest/gtest.h>

#include <cmath>
#include <tuple>

#include "../engine/engine_test_util.h"
#include "cuda_test_util.h"
#include "engine/cpu/kernels.h"
#include "engine/cuda/kernels.h"

namespace sgl::engine::cuda {
namespace {

using namespace sgl::engine::cuda::testing;

constexpr int64_t kSlots = 4096;
constexpr int kKvHeads = 2;

// (prefix, new, tree): decode rows, a prefill, an extend, a long decode (split KV), a short decode,
// a tree. A tree token's position is its depth past the prefix (not its key index), as in
// speculative verification, so that a rule keyed on positions sees the difference.
ForwardBatch make_batch(int page_size) {
  const std::vector<std::tuple<int, int, bool>> shape = {{37, 1, false},   {0, 45, false}, {130, 17, false},
                                                         {1500, 1, false}, {3, 1, false},  {64, 6, true}};
  ForwardBatch b;
  engine::testing::SlotPool pool(kSlots, page_size);
  std::mt19937 g(7);
  for (auto [prefix, n, tree] : shape) {
    Segment s;
    s.prefix_len = prefix, s.new_len = n, s.slot_offset = static_cast<int64_t>(b.kv_slots.size());
    s.logits_start = n - 1;
    std::vector<int32_t> slots;
    pool.grow(slots, prefix + n);
    b.kv_slots.insert(b.kv_slots.end(), slots.begin(), slots.end());
    for (int i = 0; i < n; ++i)
      b.input_ids.push_back(1), b.positions.push_back(prefix + (tree ? (i + 1) / 2 : i));
    if (tree) {
      s.tree_mask.assign(static_cast<size_t>(n) * n, 0);
      for (int i = 0; i < n; ++i)
        for (int j = 0; j <= i; ++j) s.tree_mask[i * n + j] = j == i || (g() % 2 == 0);
    }
    b.segments.push_back(std::move(s));
  }
  return b;
}

// The GPU kernel on `b` with the runner's metadata layout (engine/cuda/cuda_forward.cpp) rebuilt
// here, held to `ref` on the split-KV paths of 1 and 132 SMs.
void expect_gpu_matches(const ForwardBatch& b, const std::vector<float>& q, const std::vector<uint16_t>& k,
                        const std::vector<uint16_t>& v, int q_heads, int d, const cpu::AttentionOptions& opt,
                        const std::vector<float>& ref) {
  std::vector<int32_t> kv_base, kv_len, prefix, mask_off;
  std::vector<uint8_t> mask;
  for (const auto& s : b.segments) {
    for (int i = 0; i < s.new_len; ++i) {
      kv_base.push_back(static_cast<int32_t>(s.slot_offset));
      prefix.push_back(s.prefix_len);
      const bool tree = !s.tree_mask.empty();
      kv_len.push_back(s.prefix_len + (tree ? s.new_len : i + 1));
      mask_off.push_back(tree ? static_cast<int32_t>(mask.size()) + i * s.new_len : -1);
    }
    mask.insert(mask.end(), s.tree_mask.begin(), s.tree_mask.end());
  }
  const int64_t t = b.num_tokens();
  auto dk = to_device(k), dv = to_device(v), dq = to_device(q), dslots = to_device(b.kv_slots),
       dbase = to_device(kv_base), dlen = to_device(kv_len), dprefix = to_device(prefix),
       dmoff = to_device(mask_off), dmask = to_device(mask), dpos = to_device(b.positions);
  AttnParams p;
  p.tokens = t, p.q_heads = q_heads, p.kv_heads = kKvHeads, p.head_dim = d, p.scale = opt.scale;
  p.softcap = opt.softcap, p.temperature_len = opt.temperature_len, p.window = opt.window;
  p.positions = dpos.as<int32_t>();
  p.kv_slots = dslots.as<int32_t>(), p.kv_base = dbase.as<int32_t>(), p.kv_len = dlen.as<int32_t>();
  p.prefix = dprefix.as<int32_t>(), p.mask_off = dmoff.as<int32_t>(), p.mask = dmask.as<uint8_t>();
  // Few SMs and many: the split-KV path (many splits) and the single-split path give the same result.
  for (int sms : {1, 132}) {
    auto ws = DeviceBuffer::alloc(static_cast<size_t>(attention_workspace_bytes(p, sms)));
    ASSERT_TRUE(ws.ok());
    auto out = DeviceBuffer::alloc(t * q_heads * d * 2);
    ASSERT_TRUE(out.ok());
    paged_attention(dq.as<float>(), dk.as<uint16_t>(), dv.as<uint16_t>(), p, out->as<uint16_t>(), ws->as(),
                    sms, nullptr);
    ASSERT_EQ(cudaGetLastError(), cudaSuccess);
    auto got = from_bf16(to_host<uint16_t>(*out, ref.size()));
    double worst = 0;
    for (size_t i = 0; i < ref.size(); ++i)
      worst = std::max(worst, std::abs(static_cast<double>(got[i] - ref[i])));
    EXPECT_LT(worst, 1.5e-2) << "sms " << sms;  // bf16 output rounding of values below 1
  }
}

void check(int page_size, int d, int group, const cpu::AttentionOptions& opt) {
  const int q_heads = kKvHeads * group;
  const ForwardBatch b = make_batch(page_size);
  const int64_t t = b.num_tokens();
  auto k = to_bf16(random_floats(kSlots * kKvHeads * d, 1));
  auto v = to_bf16(random_floats(kSlots * kKvHeads * d, 2));
  auto q = random_floats(t * q_heads * d, 3, 2.0f);
  std::vector<float> ref(static_cast<size_t>(t * q_heads * d));
  cpu::KvLayer layer{k.data(), v.data(), DType::kBF16, kSlots, kKvHeads, d};
  cpu::paged_attention(b, q.data(), q_heads, layer, opt, ref.data());
  expect_gpu_matches(b, q, k, v, q_heads, d, opt, ref);
}

class AttentionOp : public ::testing::TestWithParam<std::tuple<int, int, int>> {};

TEST_P(AttentionOp, MatchesCpu) {
  SGL_SKIP_WITHOUT_GPU();
  const auto [page_size, d, group] = GetParam();
  check(page_size, d, group, cpu::AttentionOptions{.scale = 1.0f / std::sqrt(static_cast<float>(d))});
}

INSTANTIATE_TEST_SUITE_P(Shapes, AttentionOp,
                         ::testing::Combine(::testing::Values(1, 16, 128), ::testing::Values(16, 64, 128),
                                            ::testing::Values(1, 4, 8)));

// The families' options, alone and together (Grok: cap then temperature), with windows smaller
// than the prefixes above: 1 (a token sees itself only), 16 (tiny-gemma2's, inside one GPU tile)
// and 100 (crossing tile boundaries of the prefix). Gemma 2's query_pre_attn_scalar scale too.
struct OptionCase {
  const char* name;
  cpu::AttentionOptions opt;
};

class AttentionOptionsOp : public ::testing::TestWithParam<std::tuple<int, int, OptionCase>> {};

TEST_P(AttentionOptionsOp, MatchesCpu) {
  SGL_SKIP_WITHOUT_GPU();
  const auto [page_size, d, oc] = GetParam();
  SCOPED_TRACE(oc.name);
  cpu::AttentionOptions opt = oc.opt;
  if (opt.scale == 0.0f) opt.scale = 1.0f / std::sqrt(static_cast<float>(d));
  check(page_size, d, 2, opt);
}

const OptionCase kOptionCases[] = {
    {"softcap", {.scale = 0, .softcap = 3.0f}},
    {"window1", {.scale = 0, .window = 1}},
    {"window16", {.scale = 0, .window = 16}},
    {"window100", {.scale = 0, .window = 100}},
    {"temperature", {.scale = 0, .temperature_len = 64}},
    {"grok", {.scale = 0, .softcap = 30.0f, .temperature_len = 64}},
    {"gemma2_sliding", {.scale = 0.25f, .softcap = 20.0f, .window = 16}},
    {"everything", {.scale = 0, .softcap = 2.0f, .temperature_len = 20, .window = 100}},
};

INSTANTIATE_TEST_SUITE_P(Options, AttentionOptionsOp,
                         ::testing::Combine(::testing::Values(1, 16), ::testing::Values(32, 64),
                                            ::testing::ValuesIn(kOptionCases)),
                         [](const auto& info) {
                           return std::string(std::get<2>(info.param).name) + "_page" +
                                  std::to_string(std::get<0>(info.param)) + "_d" +
                                  std::to_string(std::get<1>(info.param));
                         });

}  // namespace
}  // namespace sgl::engine::cuda
