#include "engine/cpu/cpu_model_runner.h"

#include <fmt/format.h>

#include <fstream>
#include <new>
#include <string>

namespace sgl::engine::cpu {

CpuModelRunner::CpuModelRunner(std::unique_ptr<DecoderModel> model, ModelInfo info, const EngineConfig& cfg)
    : model_(std::move(model)), info_(std::move(info)), sampler_(cfg.random_seed) {
  if (cfg.num_threads > 0) threads_.emplace(tbb::global_control::max_allowed_parallelism, cfg.num_threads);
  kv_.dtype = model_->compute_dtype();
}

Status CpuModelRunner::init_kv_cache(int64_t num_slots, int page_size) {
  if (num_slots <= 0 || page_size <= 0)
    return invalid_argument("KV cache needs a positive size and page size");
  if (kv_.num_slots > 0) return invalid_argument("KV cache already allocated");
  const auto& c = model_->config();
  KvPool pool;
  pool.dtype = kv_.dtype;
  try {
    for (int l = 0; l < c.num_layers; ++l) {
      pool.k.push_back(Tensor::zeros(kv_.dtype, {num_slots, c.num_kv_heads, c.head_dim}));
      pool.v.push_back(Tensor::zeros(kv_.dtype, {num_slots, c.num_kv_heads, c.head_dim}));
    }
  } catch (const std::bad_alloc&) {
    return invalid_argument(fmt::format("KV cache of {} slots ({} bytes) does not fit in memory", num_slots,
                                        num_slots * info_.kv_bytes_per_token));
  }
  pool.num_slots = num_slots;
  kv_ = std::move(pool);
  return {};
}

Status CpuModelRunner::validate(const StepInput& in) const {
  const ForwardBatch& b = in.batch;
  if (kv_.num_slots == 0) return invalid_argument("init_kv_cache was not called");
  if (b.positions.size() != b.input_ids.size())
    return invalid_argument("positions and input_ids differ in length");
  int64_t tokens = 0;
  for (const auto& s : b.segments) {
    if (s.new_len <= 0 || s.prefix_len < 0) return invalid_argument("segment with no new tokens");
    if (s.slot_offset < 0 ||
        s.slot_offset + s.prefix_len + s.new_len > static_cast<int64_t>(b.kv_slots.size()))
      return invalid_argument("segment's KV slots out of range");
    if (!s.tree_mask.empty() && s.tree_mask.size() != static_cast<size_t>(s.new_len) * s.new_len)
      return invalid_argument("tree mask must be new_len × new_len");
    tokens += s.new_len;
  }
  if (tokens != b.num_tokens()) return invalid_argument("segments do not cover input_ids");
  for (int32_t slot : b.kv_slots)
    if (slot < 0 || slot >= kv_.num_slots)
      return invalid_argument(fmt::format("KV slot {} out of range", slot));
  for (int layer : b.capture_hidden_layers)
    if (layer < 0 || layer >= info_.num_layers)
      return invalid_argument(
          fmt::format("hidden-state capture of layer {}: the model has {} layers", layer, info_.num_layers));
  if (static_cast<int64_t>(in.sampling.size()) != b.num_logit_rows())
    return invalid_argument("one RowSampling per logits row is required");
  return {};
}

Result<StepOutput> CpuModelRunner::step(const StepInput& input) {
  SGL_TRY(validate(input));
  std::vector<int32_t> ids = input.batch.input_ids;
  for (auto& id : ids) {
    if (is_placeholder(id)) {
      const int32_t slot = placeholder_slot(id);
      if (slot >= static_cast<int32_t>(last_token_.size()) || last_token_[slot] < 0)
        return invalid_argument(fmt::format("placeholder for request slot {} has no sampled token", slot));
      id = last_token_[slot];
    } else if (id >= info_.vocab_size) {
      return invalid_argument(fmt::format("token id {} outside the vocabulary ({})", id, info_.vocab_size));
    }
  }
  DecoderModel::Output fwd = model_->forward(input.batch, ids, kv_);
  StepOutput out;
  out.vocab_size = info_.vocab_size;
  if (input.return_logits) out.logits = fwd.logits;  // sampling works in place on its copy
  out.rows = sampler_.sample(fwd.logits.data(), info_.vocab_size, input.sampling);
  for (size_t r = 0; r < out.rows.size(); ++r) {
    const RowSampling& rs = input.sampling[r];
    if (!rs.sample || rs.req_slot < 0) continue;
    if (rs.req_slot >= static_cast<int32_t>(last_token_.size()))
      last_token_.resize(static_cast<size_t>(rs.req_slot) + 1, -1);
    last_token_[rs.req_slot] = out.rows[r].token;
  }
  out.hidden_states = std::move(fwd.hidden_states);
  return out;
}

Status CpuModelRunner::load_weights_from_disk(const std::string& model_path) {
  SGL_ASSIGN_OR_RETURN(ModelConfig cfg, load_model_config(model_path));
  const ModelConfig& cur = model_->config();
  if (cfg.architecture != cur.architecture || cfg.hidden_size != cur.hidden_size ||
      cfg.num_layers != cur.num_layers || cfg.num_heads != cur.num_heads ||
      cfg.num_kv_heads != cur.num_kv_heads || cfg.head_dim != cur.head_dim ||
      cfg.vocab_size != cur.vocab_size || cfg.intermediate_size != cur.intermediate_size ||
      cfg.num_experts != cur.num_experts || cfg.moe_intermediate_size != cur.moe_intermediate_size)
    return invalid_argument(
        fmt::format("{}: model shape or architecture ({}) differs from the running model ({}); "
                    "weights not updated",
                    model_path, cfg.architecture, cur.architecture));
  SGL_ASSIGN_OR_RETURN(WeightFiles files, WeightFiles::open_dir(model_path));
  // Validate every tensor before touching the live buffers, so a bad checkpoint keeps the old weights.
  SGL_TRY(model_->load(files, /*dry_run=*/true));
  return model_->load(files);
}

int64_t CpuModelRunner::available_memory_bytes() const {
  std::ifstream f("/proc/meminfo");
  std::string key;
  int64_t kb = 0;
  std::string unit;
  while (f >> key >> kb >> unit)
    if (key == "MemAvailable:") return kb * 1024;
  return 0;
}

}  // namespace sgl::engine::cpu
