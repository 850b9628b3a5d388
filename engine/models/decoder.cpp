#include "engine/models/decoder.h"

#include <fmt/format.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>

namespace sgl::engine {

namespace {

std::string layer_name(int l, const char* rest) { return fmt::format("model.layers.{}.{}", l, rest); }

Status load_vec(const WeightFiles& f, const std::string& name, int64_t n, std::vector<float>& dst, bool dry) {
  SGL_ASSIGN_OR_RETURN(TensorView v, f.get(name, {n}));
  if (dry) return {};
  dst.resize(static_cast<size_t>(n));
  cpu::convert_tensor(v.data, v.dtype, n, DType::kF32, dst.data());
  return {};
}

// Copies a [rows, k] tensor into rows [row0, row0 + rows) of a packed (possibly fused) weight.
Status load_rows(const WeightFiles& f, const std::string& name, int64_t rows, int64_t row0,
                 cpu::PackedWeight& w, bool dry) {
  SGL_ASSIGN_OR_RETURN(TensorView v, f.get(name, {rows, w.k()}));
  if (dry) return {};
  auto* base = static_cast<uint8_t*>(w.mutable_data()) + row0 * w.k() * dtype_size(w.dtype());
  cpu::convert_tensor(v.data, v.dtype, rows * w.k(), w.dtype(), base);
  return {};
}

// Counter-based uniform numbers in [-scale, scale]: same seed → same weights, any thread split.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

void fill_uniform(void* dst, DType dtype, int64_t count, uint64_t seed, float scale) {
  // One splitmix64 draw gives four 16-bit uniforms (plenty for bf16's 8-bit mantissa); dummy
  // init of a large preset is dominated by this loop, so it is cut to a quarter of the hashing.
  const int64_t groups = (count + 3) / 4;
  tbb::parallel_for(
      tbb::blocked_range<int64_t>(0, groups, 1 << 14), [&](const tbb::blocked_range<int64_t>& r) {
        for (int64_t g = r.begin(); g < r.end(); ++g) {
          const uint64_t bits = mix(seed + static_cast<uint64_t>(g));
          const int64_t n = std::min<int64_t>(4, count - 4 * g);
          for (int64_t j = 0; j < n; ++j) {
            const float u = (static_cast<float>((bits >> (16 * j)) & 0xffffu) + 0.5f) * (1.0f / 65536.0f);
            const float v = (2.0f * u - 1.0f) * scale;
            if (dtype == DType::kF32) {
              static_cast<float*>(dst)[4 * g + j] = v;
            } else {
              static_cast<uint16_t*>(dst)[4 * g + j] = f32_to_bf16(v);
            }
          }
        }
      });
}

void fill_linear(cpu::PackedWeight& w, uint64_t seed) {
  // Uniform with variance 1/k: outputs keep the scale of their inputs.
  fill_uniform(w.mutable_data(), w.dtype(), w.n() * w.k(), seed, std::sqrt(3.0f / static_cast<float>(w.k())));
}

}  // namespace

cpu::KvLayer KvPool::layer(const ModelConfig& c, int l) {
  return {k[l].data(), v[l].data(), dtype, num_slots, c.num_kv_heads, c.head_dim};
}

DecoderModel::DecoderModel(ModelConfig config, FamilyOptions options, DType compute)
    : config_(std::move(config)),
      options_(options),
      compute_(compute == DType::kF32 ? DType::kF32 : DType::kBF16),
      rope_(config_.rope) {}

void DecoderModel::allocate() {
  const auto& c = config_;
  const int64_t h = c.hidden_size, d = c.head_dim;
  const int64_t qkv_rows = (c.num_heads + 2 * static_cast<int64_t>(c.num_kv_heads)) * d;
  embed_ = Tensor::empty(compute_, {c.vocab_size, h});  // written whole by load() or init_dummy()
  lm_head_ = cpu::PackedWeight::pack(nullptr, DType::kF32, c.vocab_size, h, compute_);
  final_norm_.assign(static_cast<size_t>(h), 1.0f);
  layers_.resize(static_cast<size_t>(c.num_layers));
  for (int l = 0; l < c.num_layers; ++l) {
    LayerWeights& w = layers_[l];
    w.input_norm.assign(static_cast<size_t>(h), 1.0f);
    w.post_norm.assign(static_cast<size_t>(h), 1.0f);
    if (options_.qk_norm)
      w.q_norm.assign(static_cast<size_t>(d), 1.0f), w.k_norm.assign(static_cast<size_t>(d), 1.0f);
    if (options_.qkv_bias) w.qkv_bias.assign(static_cast<size_t>(qkv_rows), 0.0f);
    if (options_.o_bias) w.o_bias.assign(static_cast<size_t>(h), 0.0f);
    w.qkv = cpu::PackedWeight::pack(nullptr, DType::kF32, qkv_rows, h, compute_);
    w.o = cpu::PackedWeight::pack(nullptr, DType::kF32, h, c.num_heads * d, compute_);
    w.moe = options_.moe && c.is_moe_layer(l);
    if (w.moe) {
      // The router stays fp32 whatever the compute dtype: it is tiny (E × H), and rounding its
      // inputs to bf16 flips near-tied top-k choices, which moves logits far more than bf16 GEMMs.
      w.router = cpu::PackedWeight::pack(nullptr, DType::kF32, c.num_experts, h, DType::kF32);
      for (int e = 0; e < c.num_experts; ++e) {
        w.expert_gate_up.push_back(
            cpu::PackedWeight::pack(nullptr, DType::kF32, 2 * c.moe_intermediate_size, h, compute_));
        w.expert_down.push_back(
            cpu::PackedWeight::pack(nullptr, DType::kF32, h, c.moe_intermediate_size, compute_));
      }
    } else {
      w.gate_up = cpu::PackedWeight::pack(nullptr, DType::kF32, 2 * c.intermediate_size, h, compute_);
      w.down = cpu::PackedWeight::pack(nullptr, DType::kF32, h, c.intermediate_size, compute_);
    }
  }
}

int64_t DecoderModel::weight_bytes() const {
  int64_t b = embed_.bytes() + lm_head_.bytes();
  for (const auto& w : layers_) {
    b += w.qkv.bytes() + w.o.bytes() + w.gate_up.bytes() + w.down.bytes() + w.router.bytes();
    for (const auto& e : w.expert_gate_up) b += e.bytes();
    for (const auto& e : w.expert_down) b += e.bytes();
  }
  return b;
}

Status DecoderModel::load(const WeightFiles& f, bool dry) {
  const auto& c = config_;
  const int64_t h = c.hidden_size, d = c.head_dim, hq = c.num_heads * d, hkv = c.num_kv_heads * d;
  SGL_ASSIGN_OR_RETURN(TensorView emb, f.get("model.embed_tokens.weight", {c.vocab_size, h}));
  if (!dry) cpu::convert_tensor(emb.data, emb.dtype, emb.numel(), compute_, embed_.data());
  if (c.tie_word_embeddings && !f.contains("lm_head.weight")) {
    if (!dry) lm_head_.reload(emb.data, emb.dtype);
  } else {
    SGL_TRY(load_rows(f, "lm_head.weight", c.vocab_size, 0, lm_head_, dry));
  }
  SGL_TRY(load_vec(f, "model.norm.weight", h, final_norm_, dry));
  for (int l = 0; l < c.num_layers; ++l) {
    LayerWeights& w = layers_[l];
    SGL_TRY(load_vec(f, layer_name(l, "input_layernorm.weight"), h, w.input_norm, dry));
    SGL_TRY(load_vec(f, layer_name(l, "post_attention_layernorm.weight"), h, w.post_norm, dry));
    SGL_TRY(load_rows(f, layer_name(l, "self_attn.q_proj.weight"), hq, 0, w.qkv, dry));
    SGL_TRY(load_rows(f, layer_name(l, "self_attn.k_proj.weight"), hkv, hq, w.qkv, dry));
    SGL_TRY(load_rows(f, layer_name(l, "self_attn.v_proj.weight"), hkv, hq + hkv, w.qkv, dry));
    SGL_TRY(load_rows(f, layer_name(l, "self_attn.o_proj.weight"), h, 0, w.o, dry));
    if (options_.qkv_bias) {
      std::vector<float> b;
      SGL_TRY(load_vec(f, layer_name(l, "self_attn.q_proj.bias"), hq, b, dry));
      if (!dry) std::copy(b.begin(), b.end(), w.qkv_bias.begin());
      SGL_TRY(load_vec(f, layer_name(l, "self_attn.k_proj.bias"), hkv, b, dry));
      if (!dry) std::copy(b.begin(), b.end(), w.qkv_bias.begin() + hq);
      SGL_TRY(load_vec(f, layer_name(l, "self_attn.v_proj.bias"), hkv, b, dry));
      if (!dry) std::copy(b.begin(), b.end(), w.qkv_bias.begin() + hq + hkv);
    }
    if (options_.o_bias) SGL_TRY(load_vec(f, layer_name(l, "self_attn.o_proj.bias"), h, w.o_bias, dry));
    if (options_.qk_norm) {
      SGL_TRY(load_vec(f, layer_name(l, "self_attn.q_norm.weight"), d, w.q_norm, dry));
      SGL_TRY(load_vec(f, layer_name(l, "self_attn.k_norm.weight"), d, w.k_norm, dry));
    }
    if (w.moe) {
      SGL_TRY(load_rows(f, layer_name(l, "mlp.gate.weight"), c.num_experts, 0, w.router, dry));
      const int64_t i = c.moe_intermediate_size;
      for (int e = 0; e < c.num_experts; ++e) {
        auto ex = [&](const char* p) {
          return layer_name(l, fmt::format("mlp.experts.{}.{}", e, p).c_str());
        };
        SGL_TRY(load_rows(f, ex("gate_proj.weight"), i, 0, w.expert_gate_up[e], dry));
        SGL_TRY(load_rows(f, ex("up_proj.weight"), i, i, w.expert_gate_up[e], dry));
        SGL_TRY(load_rows(f, ex("down_proj.weight"), h, 0, w.expert_down[e], dry));
      }
    } else {
      const int64_t i = c.intermediate_size;
      SGL_TRY(load_rows(f, layer_name(l, "mlp.gate_proj.weight"), i, 0, w.gate_up, dry));
      SGL_TRY(load_rows(f, layer_name(l, "mlp.up_proj.weight"), i, i, w.gate_up, dry));
      SGL_TRY(load_rows(f, layer_name(l, "mlp.down_proj.weight"), h, 0, w.down, dry));
    }
  }
  return {};
}

void DecoderModel::init_dummy(uint64_t seed) {
  uint64_t s = mix(seed);
  auto next = [&] { return s = mix(s); };
  fill_uniform(embed_.data(), compute_, config_.vocab_size * config_.hidden_size, next(), 0.05f);
  if (config_.tie_word_embeddings) {
    lm_head_.reload(embed_.data(), compute_);  // tied: the LM head is the embedding table
  } else {
    fill_linear(lm_head_, next());
  }
  for (auto& w : layers_) {
    fill_linear(w.qkv, next());
    fill_linear(w.o, next());
    if (w.moe) {
      fill_linear(w.router, next());
      for (auto& e : w.expert_gate_up) fill_linear(e, next());
      for (auto& e : w.expert_down) fill_linear(e, next());
    } else {
      fill_linear(w.gate_up, next());
      fill_linear(w.down, next());
    }
  }
}

}  // namespace sgl::engine
