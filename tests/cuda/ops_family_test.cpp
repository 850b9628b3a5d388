// The row kernels of the families' building blocks on the GPU against the CPU kernels (or the
// CPU decoder's own arithmetic where it has no kernel): GeGLU, soft-cap, scale, the sandwich norm,
// the shared-expert accumulate, the residual-MoE combine, and Qwen v1's logn query scaling.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "cuda_test_util.h"
#include "engine/cpu/kernels.h"
#include "engine/cuda/kernels.h"

namespace sgl::engine::cuda {
namespace {

using namespace sgl::engine::cuda::testing;

TEST(CudaFamilyOps, GeluTanhMulMatchesCpu) {
  SGL_SKIP_WITHOUT_GPU();
  const int64_t m = 3, inter = 300;
  auto gu = random_floats(m * 2 * inter, 21, 6.0f);
  gu[0] = -40.0f, gu[1] = 40.0f, gu[2] = 0.0f;  // the tails: e^{−2z} overflows / vanishes
  std::vector<float> ref(m * inter);
  cpu::gelu_tanh_mul(gu.data(), m, inter, ref.data());
  auto dgu = to_device(gu);
  auto out = dev_alloc(m * inter * 2);
  gelu_tanh_mul(dgu.as<float>(), m, inter, out.as<uint16_t>(), nullptr);
  auto got = from_bf16(to_host<uint16_t>(out, m * inter));
  for (size_t i = 0; i < ref.size(); ++i) EXPECT_NEAR(got[i], ref[i], 1e-2 * (1 + std::abs(ref[i]))) << i;
}

TEST(CudaFamilyOps, SoftcapAndScaleMatchCpu) {
  SGL_SKIP_WITHOUT_GPU();
  const int64_t n = 100003;  // more than one grid-stride round, not a multiple of the block
  auto x = random_floats(n, 22, 120.0f);
  auto dx = to_device(x);
  std::vector<float> ref = x;
  cpu::scale(ref.data(), n, 0.5773502691896257f);
  scale_inplace(dx.as<float>(), n, 0.5773502691896257f, nullptr);
  EXPECT_EQ(to_host<float>(dx, n), ref);  // one fp32 multiply: exact
  cpu::softcap(ref.data(), n, 30.0f);
  softcap_inplace(dx.as<float>(), n, 30.0f, nullptr);
  EXPECT_LT(max_abs_diff(to_host<float>(dx, n), ref), 1e-4);
  // A cap of 0 and a factor of 1 are no-ops, as on the CPU.
  const auto before = to_host<float>(dx, n);
  softcap_inplace(dx.as<float>(), n, 0.0f, nullptr);
  scale_inplace(dx.as<float>(), n, 1.0f, nullptr);
  EXPECT_EQ(to_host<float>(dx, n), before);
}

TEST(CudaFamilyOps, SandwichNormMatchesCpu) {
  SGL_SKIP_WITHOUT_GPU();
  const int64_t m = 5, n = 1000;
  auto x = random_floats(m * n, 23, 4.0f), bias = random_floats(n, 24, 0.5f), w = random_floats(n, 25);
  for (bool with_bias : {false, true}) {
    SCOPED_TRACE(with_bias);
    std::vector<float> ref = x;
    if (with_bias)
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) ref[i * n + j] += bias[j];
    cpu::rms_norm(ref.data(), w.data(), m, n, 1e-6f, ref.data());
    auto dx = to_device(x), db = to_device(bias), dw = to_device(w);
    rms_norm_inplace(dx.as<float>(), with_bias ? db.as<float>() : nullptr, dw.as<float>(), m, n, 1e-6f,
                     nullptr);
    EXPECT_LT(max_abs_diff(to_host<float>(dx, m * n), ref), 1e-4);
  }
}

// DecoderModel::shared_expert and ffn_block's residual-MoE line, on the CPU side.
TEST(CudaFamilyOps, SharedExpertAndResidualMoeCombines) {
  SGL_SKIP_WITHOUT_GPU();
  const int64_t t = 6, h = 520;
  auto y = random_floats(t * h, 26), out = random_floats(t * h, 27), gate = random_floats(t, 28, 8.0f);
  auto dy = to_device(y), dg = to_device(gate);
  for (bool gated : {true, false}) {
    SCOPED_TRACE(gated);
    std::vector<float> ref = out;
    for (int64_t i = 0; i < t; ++i) {
      const float g = gated ? 1.0f / (1.0f + std::exp(-gate[i])) : 1.0f;
      for (int64_t j = 0; j < h; ++j) ref[i * h + j] += g * y[i * h + j];
    }
    auto dout = to_device(out);
    gated_accumulate(dy.as<float>(), gated ? dg.as<float>() : nullptr, t, h, dout.as<float>(), nullptr);
    EXPECT_LT(max_abs_diff(to_host<float>(dout, t * h), ref), 1e-5);  // expf, fma
  }
  std::vector<float> ref = out;
  const float inv_sqrt2 = static_cast<float>(1.0 / std::sqrt(2.0));
  for (int64_t i = 0; i < t * h; ++i) ref[i] = (y[i] + ref[i]) * inv_sqrt2;
  auto dout = to_device(out);
  residual_moe_combine(dy.as<float>(), t * h, dout.as<float>(), nullptr);
  EXPECT_EQ(to_host<float>(dout, t * h), ref);  // one add and one multiply: exact
}

// Qwen v1: q × ln(p + 1)/ln(seq_length) after RoPE for p + 1 > seq_length; k untouched.
TEST(CudaFamilyOps, QkvRopeStoreLognQueries) {
  SGL_SKIP_WITHOUT_GPU();
  const int d = 16, hq = 4, hkv = 4;
  const int64_t t = 5, n = (hq + 2 * hkv) * d, slots = 16, logn_len = 8;
  auto qkv = random_floats(t * n, 29, 2.0f);
  std::vector<int32_t> pos = {0, 6, 7, 100, 5000}, store = {3, 1, 15, 7, 9};
  cpu::RopeConfig rc;
  rc.rotary_dim = d;
  cpu::Rope rope(rc);
  std::vector<float> q(t * hq * d), k(t * hkv * d);
  for (int64_t i = 0; i < t; ++i) {
    std::copy_n(qkv.begin() + i * n, hq * d, q.begin() + i * hq * d);
    std::copy_n(qkv.begin() + i * n + hq * d, hkv * d, k.begin() + i * hkv * d);
  }
  rope.apply(q.data(), t, hq, d, pos.data());
  rope.apply(k.data(), t, hkv, d, pos.data());
  for (int64_t i = 0; i < t; ++i)  // as DecoderModel::attention_block
    if (pos[i] + 1 > logn_len)
      cpu::scale(q.data() + i * hq * d, hq * d,
                 static_cast<float>(std::log(pos[i] + 1.0) / std::log(static_cast<double>(logn_len))));
  auto dqkv = to_device(qkv), dpos = to_device(pos), dstore = to_device(store);
  std::vector<float> inv(rope.inv_freq().begin(), rope.inv_freq().end());
  auto dinv = to_device(inv);
  auto dq = dev_alloc(t * hq * d * 4);
  auto kc = to_device(std::vector<uint16_t>(slots * hkv * d, 0)),
       vc = to_device(std::vector<uint16_t>(slots * hkv * d, 0));
  QkvParams p;
  p.tokens = t, p.q_heads = hq, p.kv_heads = hkv, p.head_dim = d;
  p.inv_freq = dinv.as<float>(), p.positions = dpos.as<int32_t>(), p.store_slot = dstore.as<int32_t>();
  p.logn_len = logn_len;
  qkv_rope_store(dqkv.as<float>(), p, dq.as<float>(), kc.as<uint16_t>(), vc.as<uint16_t>(), nullptr);
  EXPECT_LT(max_abs_diff(to_host<float>(dq, q.size()), q), 5e-3);  // fp32 angles at position 5000
  auto kh = from_bf16(to_host<uint16_t>(kc, slots * hkv * d));
  for (int64_t i = 0; i < t; ++i)
    for (int64_t j = 0; j < hkv * d; ++j)
      EXPECT_NEAR(kh[store[i] * hkv * d + j], k[i * hkv * d + j], 3e-2) << "k token " << i;
}

}  // namespace
}  // namespace sgl::engine::cuda
