// Loading the EAGLE3 draft head and its KV pool.
#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/safetensors.h"
#include "engine/spec/draft_checkpoint.h"
#include "engine/spec/eagle3_weights.h"

namespace sgl::engine::spec {

Result<Eagle3Config> load_eagle3_config(const std::string& dir, int target_num_layers) {
  Eagle3Config c;
  SGL_ASSIGN_OR_RETURN(c.model, load_model_config(dir));
  std::ifstream f(dir + "/config.json");
  std::stringstream ss;
  ss << f.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (j.is_discarded()) return corrupt(dir + "/config.json is not valid JSON");
  c.draft_vocab_size = j.value("draft_vocab_size", c.model.vocab_size);
  c.target_hidden_size = j.value("target_hidden_size", c.model.hidden_size);
  std::vector<int> ids;
  if (j.contains("eagle_config") && j["eagle_config"].is_object() &&
      j["eagle_config"].contains("eagle_aux_hidden_state_layer_ids"))
    ids = j["eagle_config"]["eagle_aux_hidden_state_layer_ids"].get<std::vector<int>>();
  if (ids.empty()) {
    const int n = target_num_layers;
    c.capture_layers = {1, n / 2 - 1, n - 4};
  } else {
    c.capture_layers = ids;
  }
  for (int l : c.capture_layers)
    if (l < 0 || l >= target_num_layers)
      return invalid_argument(
          fmt::format("draft model {}: aux hidden-state layer {} is outside the target's {} layers", dir, l,
                      target_num_layers));
  return c;
}

Eagle3Draft::~Eagle3Draft() = default;

Result<std::unique_ptr<Eagle3Draft>> Eagle3Draft::load(const std::string& draft_dir,
                                                       const std::string& target_dir, const ModelInfo& target,
                                                       DType compute) {
  std::unique_ptr<Eagle3Draft> d(new Eagle3Draft());
  SGL_ASSIGN_OR_RETURN(d->cfg_, load_eagle3_config(draft_dir, target.num_layers));
  const auto& c = d->cfg_.model;
  if (c.architecture != "LlamaForCausalLMEagle3")
    return unsupported(
        fmt::format("draft model {}: architecture '{}' is not an EAGLE3 head (LlamaForCausalLMEagle3)",
                    draft_dir, c.architecture));
  if (c.hidden_size != target.hidden_size || d->cfg_.target_hidden_size != target.hidden_size)
    return invalid_argument(fmt::format(
        "draft model {}: hidden size {} (target_hidden_size {}) does not match the target model's {}",
        draft_dir, c.hidden_size, d->cfg_.target_hidden_size, target.hidden_size));
  if (c.vocab_size != target.vocab_size)
    return invalid_argument(fmt::format("draft model {}: vocab_size {} does not match the target model's {}",
                                        draft_dir, c.vocab_size, target.vocab_size));
  if (d->cfg_.draft_vocab_size <= 0 || d->cfg_.draft_vocab_size > target.vocab_size)
    return invalid_argument(
        fmt::format("draft model {}: draft_vocab_size {} is not within the target vocabulary", draft_dir,
                    d->cfg_.draft_vocab_size));
  d->compute_ = compute == DType::kF32 ? DType::kF32 : DType::kBF16;
  SGL_ASSIGN_OR_RETURN(DraftCheckpoint ck, DraftCheckpoint::open_dir(draft_dir));
  const int64_t h = c.hidden_size, dh = c.head_dim, hq = c.num_heads * dh, hkv = c.num_kv_heads * dh;
  const int64_t inter = c.intermediate_size, vd = d->cfg_.draft_vocab_size;
  const int64_t ht = d->cfg_.target_hidden_size;
  auto w = std::make_unique<Weights>();
  auto pack = [&](const std::vector<float>& src, int64_t n, int64_t k) {
    auto pw = cpu::PackedWeight::pack(src.data(), DType::kF32, n, k, d->compute_);
    pw.lay_out_for_kernels();
    return pw;
  };
  {
    SGL_ASSIGN_OR_RETURN(auto fc, ck.floats("fc.weight", {h, 3 * ht}));
    w->fc = pack(fc, h, 3 * ht);
  }
  SGL_ASSIGN_OR_RETURN(w->input_norm, ck.floats("midlayer.input_layernorm.weight", {h}));
  SGL_ASSIGN_OR_RETURN(w->hidden_norm, ck.floats("midlayer.hidden_norm.weight", {h}));
  SGL_ASSIGN_OR_RETURN(w->post_norm, ck.floats("midlayer.post_attention_layernorm.weight", {h}));
  SGL_ASSIGN_OR_RETURN(w->final_norm, ck.floats("norm.weight", {h}));
  {
    SGL_ASSIGN_OR_RETURN(auto q, ck.floats("midlayer.self_attn.q_proj.weight", {hq, 2 * h}));
    SGL_ASSIGN_OR_RETURN(auto k, ck.floats("midlayer.self_attn.k_proj.weight", {hkv, 2 * h}));
    SGL_ASSIGN_OR_RETURN(auto v, ck.floats("midlayer.self_attn.v_proj.weight", {hkv, 2 * h}));
    q.insert(q.end(), k.begin(), k.end());
    q.insert(q.end(), v.begin(), v.end());
    w->qkv = pack(q, hq + 2 * hkv, 2 * h);
    SGL_ASSIGN_OR_RETURN(auto o, ck.floats("midlayer.self_attn.o_proj.weight", {h, hq}));
    w->o = pack(o, h, hq);
  }
  {
    SGL_ASSIGN_OR_RETURN(auto g, ck.floats("midlayer.mlp.gate_proj.weight", {inter, h}));
    SGL_ASSIGN_OR_RETURN(auto u, ck.floats("midlayer.mlp.up_proj.weight", {inter, h}));
    g.insert(g.end(), u.begin(), u.end());
    w->gate_up = pack(g, 2 * inter, h);
    SGL_ASSIGN_OR_RETURN(auto dn, ck.floats("midlayer.mlp.down_proj.weight", {h, inter}));
    w->down = pack(dn, h, inter);
    SGL_ASSIGN_OR_RETURN(auto lm, ck.floats("lm_head.weight", {vd, h}));
    w->lm_head = pack(lm, vd, h);
  }
  if (ck.contains("d2t")) {
    SGL_ASSIGN_OR_RETURN(d->d2t_, ck.ints("d2t", {vd}));
    for (int64_t i = 0; i < vd; ++i)
      if (i + d->d2t_[i] < 0 || i + d->d2t_[i] >= target.vocab_size)
        return corrupt(
            fmt::format("draft model {}: d2t maps draft id {} outside the target vocabulary", draft_dir, i));
  } else if (vd == target.vocab_size) {
    d->d2t_.assign(static_cast<size_t>(vd), 0);  // full vocabulary: identity
  } else {
    return not_found(fmt::format("draft model {}: missing tensor 'd2t' (draft vocabulary {} < target {})",
                                 draft_dir, vd, target.vocab_size));
  }
  // The head has no embedding: EAGLE3 shares the target's.
  SGL_ASSIGN_OR_RETURN(WeightFiles tf, WeightFiles::open_dir(target_dir));
  SGL_ASSIGN_OR_RETURN(TensorView emb, tf.get("model.embed_tokens.weight", {target.vocab_size, h}));
  w->embed = Tensor::empty(d->compute_, {target.vocab_size, h});
  cpu::convert_tensor(emb.data, emb.dtype, emb.numel(), d->compute_, w->embed.data());
  w->rope = std::make_unique<cpu::Rope>(c.rope);
  d->w_ = std::move(w);
  return d;
}

Status Eagle3Draft::init_kv(int64_t num_slots, int64_t scratch_slots) {
  if (num_slots <= 0 || scratch_slots < 0) return invalid_argument("draft KV pool needs a positive size");
  const auto& c = cfg_.model;
  const int64_t total = num_slots + scratch_slots;
  k_ = Tensor::zeros(compute_, {total, c.num_kv_heads, c.head_dim});
  v_ = Tensor::zeros(compute_, {total, c.num_kv_heads, c.head_dim});
  num_slots_ = num_slots;
  scratch_ = scratch_slots;
  return {};
}

Status Eagle3Draft::ensure_scratch(int64_t scratch_slots) {
  if (scratch_slots <= scratch_) return {};
  if (num_slots_ == 0) return invalid_argument("draft KV pool not initialised");
  const auto& c = cfg_.model;
  const int64_t total = num_slots_ + scratch_slots;
  Tensor k = Tensor::zeros(compute_, {total, c.num_kv_heads, c.head_dim});
  Tensor v = Tensor::zeros(compute_, {total, c.num_kv_heads, c.head_dim});
  const auto mirrored = static_cast<size_t>(num_slots_ * c.num_kv_heads * c.head_dim * dtype_size(compute_));
  std::memcpy(k.data(), k_.data(), mirrored);
  std::memcpy(v.data(), v_.data(), mirrored);
  k_ = std::move(k);
  v_ = std::move(v);
  scratch_ = scratch_slots;
  return {};
}

}  // namespace sgl::engine::spec
