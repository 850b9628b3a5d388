// Row kernels and the GEMM on the GPU against the CPU kernels: RMSNorm (plain and fused with the
// residual), q/k-norm + RoPE + KV store, SiLU·mul, embedding, bf16 GEMM, argmax/logprob, MoE top-k.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "cuda_test_util.h"
#include "engine/cpu/kernels.h"
#include "engine/cuda/gemm.h"
#include "engine/cuda/kernels.h"

namespace sgl::engine::cuda {
namespace {

using namespace sgl::engine::cuda::testing;

TEST(CudaOps, AddRmsNormMatchesCpu) {
  SGL_SKIP_WITHOUT_GPU();
  const int64_t m = 7, n = 1000;
  auto x = random_floats(m * n, 1, 3.0f), delta = random_floats(m * n, 2), w = random_floats(n, 3);
  std::vector<float> res = x, ref(m * n), ref_plain(m * n);
  cpu::rms_norm(x.data(), w.data(), m, n, 1e-6f, ref_plain.data());
  cpu::add_rms_norm(delta.data(), res.data(), w.data(), m, n, 1e-6f, ref.data());
  auto dx = to_device(x), dd = to_device(delta), dw = to_device(w);
  auto y = dev_alloc(m * n * 2);
  auto y32 = dev_alloc(m * n * 4);
  rms_norm(dx.as<float>(), dw.as<float>(), m, n, 1e-6f, y.as<uint16_t>(), y32.as<float>(), nullptr);
  EXPECT_LT(max_abs_diff(to_host<float>(y32, m * n), ref_plain), 1e-4);
  EXPECT_LT(max_abs_diff(from_bf16(to_host<uint16_t>(y, m * n)), ref_plain), 2e-2);
  add_rms_norm(dd.as<float>(), nullptr, dx.as<float>(), dw.as<float>(), m, n, 1e-6f, y.as<uint16_t>(),
               y32.as<float>(), nullptr);
  EXPECT_LT(max_abs_diff(to_host<float>(y32, m * n), ref), 1e-4);
  EXPECT_LT(max_abs_diff(to_host<float>(dx, m * n), res), 1e-6);  // the residual was updated in place
  // Gathered rows 5 and 2 of the updated residual.
  std::vector<int32_t> rows = {5, 2};
  auto drows = to_device(rows);
  gather_rms_norm(dx.as<float>(), drows.as<int32_t>(), 2, dw.as<float>(), n, 1e-6f, y.as<uint16_t>(),
                  nullptr);
  auto got = from_bf16(to_host<uint16_t>(y, 2 * n));
  std::vector<float> want(ref.begin() + 5 * n, ref.begin() + 6 * n);
  want.insert(want.end(), ref.begin() + 2 * n, ref.begin() + 3 * n);
  EXPECT_LT(max_abs_diff(got, want), 2e-2);
}

TEST(CudaOps, QkvNormRopeStoreMatchesCpu) {
  SGL_SKIP_WITHOUT_GPU();
  for (int d : {16, 64, 128}) {
    SCOPED_TRACE(d);
    const int hq = 8, hkv = 2;
    const int64_t t = 5, n = (hq + 2 * hkv) * d, slots = 64;
    auto qkv = random_floats(t * n, 4, 2.0f), bias = random_floats(n, 5, 0.5f);
    auto qn = random_floats(d, 6), kn = random_floats(d, 7);
    std::vector<int32_t> pos = {0, 3, 17, 1000, 40000}, store = {9, 1, 63, 20, 33};
    cpu::RopeConfig rc;
    rc.rotary_dim = d, rc.theta = 1000000.0;
    cpu::Rope rope(rc);
    // CPU: bias, per-head RMSNorm, RoPE.
    std::vector<float> q(t * hq * d), k(t * hkv * d), v(t * hkv * d);
    for (int64_t i = 0; i < t; ++i)
      for (int64_t j = 0; j < n; ++j) {
        const float val = qkv[i * n + j] + bias[j];
        if (j < hq * d)
          q[i * hq * d + j] = val;
        else if (j < (hq + hkv) * d)
          k[i * hkv * d + j - hq * d] = val;
        else
          v[i * hkv * d + j - (hq + hkv) * d] = val;
      }
    cpu::rms_norm(q.data(), qn.data(), t * hq, d, 1e-6f, q.data());
    cpu::rms_norm(k.data(), kn.data(), t * hkv, d, 1e-6f, k.data());
    rope.apply(q.data(), t, hq, d, pos.data());
    rope.apply(k.data(), t, hkv, d, pos.data());
    auto dqkv = to_device(qkv), dbias = to_device(bias), dqn = to_device(qn), dkn = to_device(kn),
         dpos = to_device(pos), dstore = to_device(store);
    std::vector<float> inv(rope.inv_freq().begin(), rope.inv_freq().end());
    auto dinv = to_device(inv);
    auto dq = dev_alloc(t * hq * d * 4);
    auto kc = to_device(std::vector<uint16_t>(slots * hkv * d, 0)),
         vc = to_device(std::vector<uint16_t>(slots * hkv * d, 0));
    QkvParams p;
    p.tokens = t, p.q_heads = hq, p.kv_heads = hkv, p.head_dim = d, p.eps = 1e-6f;
    p.bias = dbias.as<float>(), p.q_norm = dqn.as<float>(), p.k_norm = dkn.as<float>();
    p.inv_freq = dinv.as<float>(), p.positions = dpos.as<int32_t>(), p.store_slot = dstore.as<int32_t>();
    qkv_rope_store(dqkv.as<float>(), p, dq.as<float>(), kc.as<uint16_t>(), vc.as<uint16_t>(), nullptr);
    // Large positions: fp32 angles differ between sincosf and std::sin/cos by ~1e-3 at 40000.
    EXPECT_LT(max_abs_diff(to_host<float>(dq, q.size()), q), 5e-3);
    auto kh = from_bf16(to_host<uint16_t>(kc, slots * hkv * d)),
         vh = from_bf16(to_host<uint16_t>(vc, slots * hkv * d));
    for (int64_t i = 0; i < t; ++i)
      for (int64_t j = 0; j < hkv * d; ++j) {
        EXPECT_NEAR(kh[store[i] * hkv * d + j], k[i * hkv * d + j], 3e-2) << "k token " << i;
        EXPECT_NEAR(vh[store[i] * hkv * d + j], v[i * hkv * d + j], 1e-2) << "v token " << i;
      }
  }
}

TEST(CudaOps, SiluMulAndEmbeddingMatchCpu) {
  SGL_SKIP_WITHOUT_GPU();
  const int64_t m = 3, inter = 300, vocab = 50, h = 96;
  auto gu = random_floats(m * 2 * inter, 8, 4.0f);
  std::vector<float> ref(m * inter);
  cpu::silu_mul(gu.data(), m, inter, ref.data());
  auto dgu = to_device(gu);
  auto out = dev_alloc(m * inter * 2);
  silu_mul(dgu.as<float>(), m, inter, out.as<uint16_t>(), nullptr);
  auto got = from_bf16(to_host<uint16_t>(out, m * inter));
  for (size_t i = 0; i < ref.size(); ++i) EXPECT_NEAR(got[i], ref[i], 1e-2 * (1 + std::abs(ref[i])));
  auto table = to_bf16(random_floats(vocab * h, 9));
  std::vector<int32_t> ids = {4, 49, 0, 4};
  std::vector<float> eref(ids.size() * h);
  cpu::embedding(table.data(), DType::kBF16, h, ids.data(), static_cast<int64_t>(ids.size()), eref.data());
  auto dt = to_device(table), dids = to_device(ids);
  auto e = dev_alloc(eref.size() * 4);
  embedding(dt.as<uint16_t>(), h, dids.as<int32_t>(), static_cast<int64_t>(ids.size()), e.as<float>(),
            nullptr);
  EXPECT_EQ(to_host<float>(e, eref.size()), eref);  // exact: a bf16 → fp32 widening
}

TEST(CudaOps, Bf16GemmMatchesCpuLinear) {
  SGL_SKIP_WITHOUT_GPU();
  Gemm gemm;
  ASSERT_TRUE(gemm.init(nullptr).ok());
  for (auto [m, n, k] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{{1, 256, 512}, {37, 1000, 640}}) {
    auto x = to_bf16(random_floats(m * k, 10)), w = to_bf16(random_floats(n * k, 11));
    auto xf = from_bf16(x);
    auto packed = cpu::PackedWeight::pack(w.data(), DType::kBF16, n, k, DType::kBF16);
    std::vector<float> ref(m * n);
    cpu::linear(xf.data(), m, packed, nullptr, ref.data());
    auto dx = to_device(x), dw = to_device(w);
    auto y = dev_alloc(m * n * 4);
    ASSERT_TRUE(gemm.bf16(dx.as<uint16_t>(), dw.as<uint16_t>(), y.as<float>(), m, n, k).ok());
    EXPECT_LT(max_abs_diff(to_host<float>(y, m * n), ref), 1e-3 * std::sqrt(static_cast<double>(k)));
  }
}

TEST(CudaOps, ArgmaxLogprobAndMoeTopk) {
  SGL_SKIP_WITHOUT_GPU();
  const int64_t rows = 3, vocab = 5000;
  auto logits = random_floats(rows * vocab, 12, 5.0f);
  logits[1 * vocab + 10] = 9.0f, logits[1 * vocab + 20] = 9.0f;  // a tie: the lower index wins
  auto dl = to_device(logits);
  auto ids = dev_alloc(rows * 4), lp = dev_alloc(rows * 4);
  argmax_logprob(dl.as<float>(), rows, vocab, ids.as<int32_t>(), lp.as<float>(), nullptr);
  auto got_ids = to_host<int32_t>(ids, rows);
  auto got_lp = to_host<float>(lp, rows);
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = logits.data() + r * vocab;
    const auto best = std::max_element(x, x + vocab) - x;
    EXPECT_EQ(got_ids[r], best);
    double s = 0;
    for (int64_t j = 0; j < vocab; ++j) s += std::exp(static_cast<double>(x[j] - x[best]));
    EXPECT_NEAR(got_lp[r], -std::log(s), 1e-4);
  }
  EXPECT_EQ(got_ids[1], 10);
  const int64_t m = 9;
  const int experts = 16, k = 4;
  auto router = random_floats(m * experts, 13, 3.0f);
  std::vector<int32_t> ref_ids(m * k);
  std::vector<float> ref_w(m * k);
  cpu::moe_topk_softmax(router.data(), m, experts, k, true, ref_ids.data(), ref_w.data());
  auto dr = to_device(router);
  auto tid = dev_alloc(m * k * 4), tw = dev_alloc(m * k * 4);
  moe_topk_softmax(dr.as<float>(), m, experts, k, true, tid.as<int32_t>(), tw.as<float>(), nullptr);
  EXPECT_EQ(to_host<int32_t>(tid, m * k), ref_ids);
  EXPECT_LT(max_abs_diff(to_host<float>(tw, m * k), ref_w), 1e-5);
}

}  // namespace
}  // namespace sgl::engine::cuda
