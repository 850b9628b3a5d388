#include "engine/models/decoder.h"

#include <fmt/format.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>

#include "engine/cpu/quant_weight.h"
#include "engine/quant/quant_loader.h"

namespace sgl::engine {

namespace {

// `<root>.<i>.<rest>`: a layer's (or an expert's) tensor name.
std::string indexed(std::string_view root, int i, std::string_view rest) {
  return fmt::format("{}.{}.{}", root, i, rest);
}

Status load_vec(const WeightFiles& f, const std::string& name, int64_t n, std::vector<float>& dst, bool dry) {
  SGL_ASSIGN_OR_RETURN(TensorView v, f.get_float(name, {n}));
  if (dry) return {};
  dst.resize(static_cast<size_t>(n));
  cpu::convert_tensor(v.data, v.dtype, n, DType::kF32, dst.data());
  return {};
}

// Copies a [rows, k] tensor into rows [row0, row0 + rows) of a packed (possibly fused) weight.
Status load_rows(const WeightFiles& f, const std::string& name, int64_t rows, int64_t row0,
                 cpu::PackedWeight& w, bool dry) {
  SGL_ASSIGN_OR_RETURN(TensorView v, f.get_float(name, {rows, w.k()}));
  if (dry) return {};
  auto* base = static_cast<uint8_t*>(w.mutable_data()) + row0 * w.k() * dtype_size(w.dtype());
  cpu::convert_tensor(v.data, v.dtype, rows * w.k(), w.dtype(), base);
  return {};
}

// Copies rows [r0, r0 + nr) × columns [c0, c0 + nc) of a [rows, cols] tensor into rows
// [dst_row0, dst_row0 + nr) of a packed weight (nc == w.k()): a tensor-parallel rank's slice, read
// straight from the mapped file so no rank touches the rest of the tensor.
// The tensor may be stored in pieces (Grok-2's per-rank expert slices): each piece contributes the
// part of the block it holds.
Status load_block(const WeightFiles& f, const std::string& name, int64_t rows, int64_t cols, int64_t r0,
                  int64_t nr, int64_t c0, int64_t dst_row0, cpu::PackedWeight& w, bool dry) {
  SGL_ASSIGN_OR_RETURN(std::vector<TensorPart> parts, f.get_parts(name, {rows, cols}));
  if (!is_float_dtype(parts.front().view.dtype))
    return corrupt(fmt::format("{}: tensor '{}' is {}, where a float tensor (F32, BF16, F16) belongs",
                               parts.front().view.file, name, dtype_name(parts.front().view.dtype)));
  if (dry) return {};
  const int64_t nc = w.k();
  const auto ds = static_cast<int64_t>(dtype_size(w.dtype()));
  auto* dst = static_cast<uint8_t*>(w.mutable_data()) + dst_row0 * nc * ds;
  for (const TensorPart& part : parts) {
    const TensorView& v = part.view;
    const int64_t prows = v.shape[0], pcols = v.shape[1];
    // The block's rows and columns that this piece holds, in whole-tensor coordinates.
    const int64_t ra = std::max(r0, part.row0), rb = std::min(r0 + nr, part.row0 + prows);
    const int64_t ca = std::max(c0, part.col0), cb = std::min(c0 + nc, part.col0 + pcols);
    if (ra >= rb || ca >= cb) continue;
    const auto es = static_cast<int64_t>(dtype_size(v.dtype));
    const auto* src = static_cast<const uint8_t*>(v.data);
    auto at = [&](int64_t r) { return src + ((r - part.row0) * pcols + (ca - part.col0)) * es; };
    auto out = [&](int64_t r) { return dst + ((r - r0) * nc + (ca - c0)) * ds; };
    if (ca == part.col0 && cb - ca == pcols && cb - ca == nc) {  // whole rows: one contiguous run
      cpu::convert_tensor(at(ra), v.dtype, (rb - ra) * nc, w.dtype(), out(ra));
      continue;
    }
    tbb::parallel_for(tbb::blocked_range<int64_t>(ra, rb, 16), [&](const tbb::blocked_range<int64_t>& r) {
      for (int64_t i = r.begin(); i < r.end(); ++i)
        cpu::convert_tensor(at(i), v.dtype, cb - ca, w.dtype(), out(i));
    });
  }
  return {};
}

// Elements [off, off + n) of a 1-D tensor of `full` elements, written at dst[dst_off].
Status load_vec_slice(const WeightFiles& f, const std::string& name, int64_t full, int64_t off, int64_t n,
                      std::vector<float>& dst, int64_t dst_off, bool dry) {
  SGL_ASSIGN_OR_RETURN(TensorView v, f.get_float(name, {full}));
  if (dry) return {};
  cpu::convert_tensor(static_cast<const uint8_t*>(v.data) + off * dtype_size(v.dtype), v.dtype, n,
                      DType::kF32, dst.data() + dst_off);
  return {};
}

// A linear weight's block (load_block's arguments), read from its quantized form when the
// checkpoint stores it quantized.
Status load_linear(const WeightFiles& f, const QuantConfig& q, const std::string& name, int64_t rows,
                   int64_t cols, int64_t r0, int64_t nr, int64_t c0, int64_t dst_row0, cpu::PackedWeight& w,
                   bool dry) {
  if (q.quantized()) {
    const std::string base = name.ends_with(".weight") ? name.substr(0, name.size() - 7) : name;
    if (is_quantized_linear(f, q, base))
      return load_quantized_block(f, q, base, rows, cols, r0, nr, c0, dst_row0, w, dry);
    if (w.quant()) return corrupt(base + ": stored in float, but fused with quantized tensors");
  }
  return load_block(f, name, rows, cols, r0, nr, c0, dst_row0, w, dry);
}

// Bailing's norm_head: W'[:, j] = W[:, j] / (‖W[:, j]‖₂ + 1e-7) over the WHOLE vocabulary (SGLang's
// F.normalize(W, dim=0)), so the column norms come from the full tensor even when this rank holds
// only rows [row0, row0 + w.n()); each rank's rows are then rescaled from the fp32 source values and
// rounded once to the weight's dtype.
Status normalise_head_columns(const WeightFiles& f, const std::string& name, int64_t rows, int64_t cols,
                              int64_t row0, cpu::PackedWeight& w, bool dry) {
  SGL_ASSIGN_OR_RETURN(TensorView v, f.get_float(name, {rows, cols}));
  if (dry) return {};
  const auto es = static_cast<int64_t>(dtype_size(v.dtype));
  const auto* src = static_cast<const uint8_t*>(v.data);
  std::vector<double> sq(static_cast<size_t>(cols), 0.0);
  std::vector<float> row(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    cpu::convert_tensor(src + r * cols * es, v.dtype, cols, DType::kF32, row.data());
    for (int64_t j = 0; j < cols; ++j) sq[j] += static_cast<double>(row[j]) * row[j];
  }
  std::vector<float> inv(static_cast<size_t>(cols));
  for (int64_t j = 0; j < cols; ++j) inv[j] = static_cast<float>(1.0 / (std::sqrt(sq[j]) + 1e-7));
  auto* dst = static_cast<uint8_t*>(w.mutable_data());
  const auto ds = static_cast<int64_t>(dtype_size(w.dtype()));
  for (int64_t r = 0; r < w.n(); ++r) {
    cpu::convert_tensor(src + (row0 + r) * cols * es, v.dtype, cols, DType::kF32, row.data());
    for (int64_t j = 0; j < cols; ++j) row[j] *= inv[j];
    cpu::convert_tensor(row.data(), DType::kF32, cols, w.dtype(), dst + r * cols * ds);
  }
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
  // The pool holds this rank's KV heads (all of them on a whole model).
  return {k[l].data(), v[l].data(), dtype, num_slots, static_cast<int>(k[l].shape()[1]), c.head_dim};
}

DecoderModel::DecoderModel(ModelConfig config, FamilyOptions options, DType compute)
    : config_(std::move(config)),
      options_(options),
      compute_(compute == DType::kF32 ? DType::kF32 : DType::kBF16),
      rope_(config_.rope),
      shard_(ShardPlan::whole(config_)) {
  if (config_.embedding_scale_in_compute_dtype && compute_ == DType::kBF16)
    config_.embedding_scale = bf16_to_f32(f32_to_bf16(config_.embedding_scale));
}

void DecoderModel::set_shard(const ShardPlan& shard, dist::Communicator* comm) {
  shard_ = shard;
  comm_ = shard.sharded() ? comm : nullptr;
}

void DecoderModel::release_weights() {
  // Move-assigned from empty values, so the capacity goes back to the allocator too.
  embed_ = Tensor();
  lm_head_ = cpu::PackedWeight();
  final_norm_ = std::vector<float>();
  layers_ = std::vector<LayerWeights>();
}

void DecoderModel::allocate() {
  const auto& c = config_;
  const ShardPlan& p = shard_;
  const int64_t h = c.hidden_size, d = c.head_dim;
  const int64_t qkv_rows = (p.q_heads + 2 * static_cast<int64_t>(p.kv_heads)) * d;
  embed_ = Tensor::empty(compute_, {p.vocab, h});  // written whole by load() or init_dummy()
  // A classifier's score head is small: every rank holds all of it.
  lm_head_ =
      cpu::PackedWeight::pack(nullptr, DType::kF32, c.num_labels > 0 ? c.num_labels : p.vocab, h, compute_);
  final_norm_.assign(static_cast<size_t>(h), 1.0f);
  layers_.resize(static_cast<size_t>(c.num_layers));
  for (int l = 0; l < c.num_layers; ++l) {
    LayerWeights& w = layers_[l];
    w.input_norm.assign(static_cast<size_t>(h), 1.0f);
    w.post_norm.assign(static_cast<size_t>(h), 1.0f);
    if (options_.sandwich_norms)
      w.attn_out_norm.assign(static_cast<size_t>(h), 1.0f),
          w.mlp_out_norm.assign(static_cast<size_t>(h), 1.0f);
    if (options_.qk_norm)
      w.q_norm.assign(static_cast<size_t>(d), 1.0f), w.k_norm.assign(static_cast<size_t>(d), 1.0f);
    if (options_.qkv_bias) w.qkv_bias.assign(static_cast<size_t>(qkv_rows), 0.0f);
    if (options_.o_bias) w.o_bias.assign(static_cast<size_t>(h), 0.0f);
    w.qkv = cpu::PackedWeight::pack(nullptr, DType::kF32, qkv_rows, h, compute_);
    w.o = cpu::PackedWeight::pack(nullptr, DType::kF32, h, p.q_heads * d, compute_);
    w.moe = options_.moe && c.is_moe_layer(l);
    w.dense = !w.moe || c.residual_moe;
    if (w.moe) {
      // The router stays fp32 whatever the compute dtype: it is tiny (E × H), and rounding its
      // inputs to bf16 flips near-tied top-k choices, which moves logits far more than bf16 GEMMs.
      w.router = cpu::PackedWeight::pack(nullptr, DType::kF32, c.num_experts, h, DType::kF32);
      for (int e = 0; e < p.experts; ++e) {  // this rank's experts only (expert parallelism)
        w.expert_gate_up.push_back(
            cpu::PackedWeight::pack(nullptr, DType::kF32, 2 * p.moe_inter, h, compute_));
        w.expert_down.push_back(cpu::PackedWeight::pack(nullptr, DType::kF32, h, p.moe_inter, compute_));
      }
      if (options_.shared_expert != SharedExpert::kNone) {
        w.shared_gate_up = cpu::PackedWeight::pack(nullptr, DType::kF32, 2 * p.shared_inter, h, compute_);
        w.shared_down = cpu::PackedWeight::pack(nullptr, DType::kF32, h, p.shared_inter, compute_);
      }
      if (options_.shared_expert == SharedExpert::kSigmoidGated)
        w.shared_gate = cpu::PackedWeight::pack(nullptr, DType::kF32, 1, h, DType::kF32);
    }
    if (w.dense) {
      w.gate_up = cpu::PackedWeight::pack(nullptr, DType::kF32, 2 * p.inter, h, compute_);
      w.down = cpu::PackedWeight::pack(nullptr, DType::kF32, h, p.inter, compute_);
    }
  }
}

void DecoderModel::lay_out_weights() {
  mark_quantized_compute();
  lm_head_.lay_out_for_kernels();
  for (auto& w : layers_) {
    for (auto* pw : {&w.qkv, &w.o, &w.gate_up, &w.down, &w.router, &w.shared_gate_up, &w.shared_down})
      pw->lay_out_for_kernels();
    for (auto& e : w.expert_gate_up) e.lay_out_for_kernels();
    for (auto& e : w.expert_down) e.lay_out_for_kernels();
  }
}

int64_t DecoderModel::routed_expert_bytes() const {
  int64_t b = 0;
  for (const auto& w : layers_) {
    for (const auto& e : w.expert_gate_up) b += e.bytes();
    for (const auto& e : w.expert_down) b += e.bytes();
  }
  return b;
}

int64_t DecoderModel::weight_bytes() const {
  int64_t b = embed_.bytes() + lm_head_.bytes();
  for (const auto& w : layers_) {
    b += w.qkv.bytes() + w.o.bytes() + w.gate_up.bytes() + w.down.bytes() + w.router.bytes() +
         w.shared_gate_up.bytes() + w.shared_down.bytes() + w.shared_gate.bytes();
    for (const auto& e : w.expert_gate_up) b += e.bytes();
    for (const auto& e : w.expert_down) b += e.bytes();
  }
  return b;
}

Status DecoderModel::load(const WeightFiles& f, bool dry) {
  const auto& c = config_;
  const ShardPlan& p = shard_;
  const WeightNames& n = options_.names;
  const int64_t h = c.hidden_size, d = c.head_dim, hq = c.num_heads * d, hkv = c.num_kv_heads * d;
  // This rank's rows of the q, k, v projections (all of them on a whole model).
  const int64_t q0 = p.q_head0 * d, nq = p.q_heads * d, kv0 = p.kv_head0 * d, nkv = p.kv_heads * d;
  SGL_ASSIGN_OR_RETURN(TensorView emb, f.get_float(std::string(n.embed), {c.vocab_size, h}));
  const auto* emb_rows = static_cast<const uint8_t*>(emb.data) + p.vocab0 * h * dtype_size(emb.dtype);
  if (!dry) cpu::convert_tensor(emb_rows, emb.dtype, p.vocab * h, compute_, embed_.data());
  const std::string lm_head(n.lm_head);
  if (c.num_labels > 0) {  // a classifier's score head (never tied), whole on every rank
    SGL_TRY(load_block(f, lm_head, c.num_labels, h, 0, c.num_labels, 0, 0, lm_head_, dry));
  } else if ((c.tie_word_embeddings || options_.no_lm_head) && !f.contains(lm_head)) {
    if (!dry) lm_head_.reload(emb_rows, emb.dtype);
  } else {
    SGL_TRY(load_block(f, lm_head, c.vocab_size, h, p.vocab0, p.vocab, 0, 0, lm_head_, dry));
    if (c.norm_head) SGL_TRY(normalise_head_columns(f, lm_head, c.vocab_size, h, p.vocab0, lm_head_, dry));
  }
  SGL_TRY(load_vec(f, std::string(n.final_norm), h, final_norm_, dry));
  for (int l = 0; l < c.num_layers; ++l) {
    LayerWeights& w = layers_[l];
    auto name = [&](std::string_view rest) { return indexed(n.layer_root, l, rest); };
    auto param = [&](std::string_view base, const char* kind) {
      return name(fmt::format("{}.{}", base, kind));
    };
    SGL_TRY(load_vec(f, name(n.attn_norm), h, w.input_norm, dry));
    SGL_TRY(load_vec(f, name(n.mlp_norm), h, w.post_norm, dry));
    if (options_.sandwich_norms) {
      SGL_TRY(load_vec(f, name(n.attn_out_norm), h, w.attn_out_norm, dry));
      SGL_TRY(load_vec(f, name(n.mlp_out_norm), h, w.mlp_out_norm, dry));
    }
    if (!n.qkv.empty()) {  // one [q; k; v] tensor: this rank's rows of each third
      const std::string qkv = param(n.qkv, "weight");
      const int64_t rows = hq + 2 * hkv;
      SGL_TRY(load_linear(f, c.quant, qkv, rows, h, q0, nq, 0, 0, w.qkv, dry));
      SGL_TRY(load_linear(f, c.quant, qkv, rows, h, hq + kv0, nkv, 0, nq, w.qkv, dry));
      SGL_TRY(load_linear(f, c.quant, qkv, rows, h, hq + hkv + kv0, nkv, 0, nq + nkv, w.qkv, dry));
      if (options_.qkv_bias) {
        const std::string b = param(n.qkv, "bias");
        SGL_TRY(load_vec_slice(f, b, rows, q0, nq, w.qkv_bias, 0, dry));
        SGL_TRY(load_vec_slice(f, b, rows, hq + kv0, nkv, w.qkv_bias, nq, dry));
        SGL_TRY(load_vec_slice(f, b, rows, hq + hkv + kv0, nkv, w.qkv_bias, nq + nkv, dry));
      }
    } else {
      SGL_TRY(load_linear(f, c.quant, param(n.q, "weight"), hq, h, q0, nq, 0, 0, w.qkv, dry));
      SGL_TRY(load_linear(f, c.quant, param(n.k, "weight"), hkv, h, kv0, nkv, 0, nq, w.qkv, dry));
      SGL_TRY(load_linear(f, c.quant, param(n.v, "weight"), hkv, h, kv0, nkv, 0, nq + nkv, w.qkv, dry));
      if (options_.qkv_bias) {
        SGL_TRY(load_vec_slice(f, param(n.q, "bias"), hq, q0, nq, w.qkv_bias, 0, dry));
        SGL_TRY(load_vec_slice(f, param(n.k, "bias"), hkv, kv0, nkv, w.qkv_bias, nq, dry));
        SGL_TRY(load_vec_slice(f, param(n.v, "bias"), hkv, kv0, nkv, w.qkv_bias, nq + nkv, dry));
      }
    }
    SGL_TRY(load_linear(f, c.quant, param(n.o, "weight"), h, hq, 0, h, q0, 0, w.o, dry));
    if (options_.o_bias) SGL_TRY(load_vec(f, param(n.o, "bias"), h, w.o_bias, dry));
    if (options_.qk_norm) {
      SGL_TRY(load_vec(f, name(n.q_norm), d, w.q_norm, dry));
      SGL_TRY(load_vec(f, name(n.k_norm), d, w.k_norm, dry));
    }
    if (w.moe) {
      SGL_TRY(load_rows(f, name(n.router), c.num_experts, 0, w.router, dry));
      const int64_t i = c.moe_intermediate_size, i0 = p.moe_inter0, ni = p.moe_inter;
      for (int le = 0; le < p.experts; ++le) {
        const int e = p.expert0 + le;
        auto ex = [&](std::string_view part) { return name(indexed(n.expert_root, e, part)); };
        SGL_TRY(load_linear(f, c.quant, ex(n.expert_gate), i, h, i0, ni, 0, 0, w.expert_gate_up[le], dry));
        SGL_TRY(load_linear(f, c.quant, ex(n.expert_up), i, h, i0, ni, 0, ni, w.expert_gate_up[le], dry));
        SGL_TRY(load_linear(f, c.quant, ex(n.expert_down), h, i, 0, h, i0, 0, w.expert_down[le], dry));
      }
      if (options_.shared_expert != SharedExpert::kNone) {
        const int64_t si = c.shared_expert_intermediate_size, s0 = p.shared_inter0, ns = p.shared_inter;
        auto sh = [&](const char* part) { return name(fmt::format("{}.{}", n.shared_root, part)); };
        SGL_TRY(load_linear(f, c.quant, sh("gate_proj.weight"), si, h, s0, ns, 0, 0, w.shared_gate_up, dry));
        SGL_TRY(load_linear(f, c.quant, sh("up_proj.weight"), si, h, s0, ns, 0, ns, w.shared_gate_up, dry));
        SGL_TRY(load_linear(f, c.quant, sh("down_proj.weight"), h, si, 0, h, s0, 0, w.shared_down, dry));
      }
      if (options_.shared_expert == SharedExpert::kSigmoidGated)
        SGL_TRY(load_rows(f, name(n.shared_gate), 1, 0, w.shared_gate, dry));
    }
    if (w.dense) {
      const int64_t i = c.intermediate_size, i0 = p.inter0, ni = p.inter;
      SGL_TRY(load_linear(f, c.quant, name(n.gate), i, h, i0, ni, 0, 0, w.gate_up, dry));
      SGL_TRY(load_linear(f, c.quant, name(n.up), i, h, i0, ni, 0, ni, w.gate_up, dry));
      SGL_TRY(load_linear(f, c.quant, name(n.down), h, i, 0, h, i0, 0, w.down, dry));
    }
  }
  if (dry) return {};
  if (options_.norm_weight_offset) {  // Gemma's (1 + w), in fp32 as HF computes it
    auto offset = [](std::vector<float>& v) {
      for (float& x : v) x += 1.0f;
    };
    offset(final_norm_);
    for (auto& w : layers_)
      for (auto* v : {&w.input_norm, &w.post_norm, &w.attn_out_norm, &w.mlp_out_norm}) offset(*v);
  }
  lay_out_weights();
  return {};
}

void DecoderModel::init_dummy(uint64_t seed) {
  // A sharded model draws each rank's slice from its own stream: dummy weights only need the right
  // shapes and scale (benchmarks), not equality with the whole model's.
  uint64_t s = mix(seed + static_cast<uint64_t>(shard_.tp_rank) * 0x100000001b3ull);
  auto next = [&] { return s = mix(s); };
  fill_uniform(embed_.data(), compute_, shard_.vocab * config_.hidden_size, next(), 0.05f);
  if (config_.tie_word_embeddings && config_.num_labels == 0) {
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
      if (w.shared_gate_up.n() > 0) fill_linear(w.shared_gate_up, next()), fill_linear(w.shared_down, next());
      if (w.shared_gate.n() > 0) fill_linear(w.shared_gate, next());
    }
    if (w.dense) {
      fill_linear(w.gate_up, next());
      fill_linear(w.down, next());
    }
  }
  lay_out_weights();
}

}  // namespace sgl::engine

namespace sgl::engine {

Status DecoderModel::init_lora(int num_slots) {
  const WeightNames plain;
  // PEFT names an adapter's modules after the base's; ours map the seven Llama/Qwen projections.
  if (!options_.names.qkv.empty() || options_.names.q != plain.q || options_.names.o != plain.o ||
      options_.names.gate != plain.gate || options_.names.down != plain.down)
    return unsupported(fmt::format(
        "LoRA adapters on {} are not supported: its projections are not the q/k/v/o/gate/up/down_proj "
        "modules PEFT adapters target",
        config_.architecture));
  if (num_slots < 1) return invalid_argument("LoRA needs at least one adapter slot");
  lora_.init(num_slots, compute_);
  return {};
}

}  // namespace sgl::engine

namespace sgl::engine {

void DecoderModel::quantize_linears(
    const std::function<cpu::PackedWeight(const cpu::PackedWeight&)>& quantize) {
  for_each_linear([&](cpu::PackedWeight& w) {
    if (w.n() > 0 && w.quant() == nullptr) w = quantize(w);
  });
  mark_quantized_compute();
}

void DecoderModel::mark_quantized_compute() {
  for_each_linear([&](cpu::PackedWeight& w) {
    if (cpu::QuantWeight* q = w.quant()) q->bf16_activations = compute_ == DType::kBF16;
  });
}

void DecoderModel::for_each_linear(const std::function<void(cpu::PackedWeight&)>& f) {
  for (auto& w : layers_) {
    for (auto* pw : {&w.qkv, &w.o, &w.gate_up, &w.down, &w.shared_gate_up, &w.shared_down}) f(*pw);
    for (auto& e : w.expert_gate_up) f(e);
    for (auto& e : w.expert_down) f(e);
  }
}

}  // namespace sgl::engine
