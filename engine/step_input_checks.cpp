#include "engine/step_input_checks.h"

#include <fmt/format.h>

namespace sgl::engine {

Status validate_step_input(const StepInput& in, const ModelInfo& info, int64_t num_kv_slots) {
  const ForwardBatch& b = in.batch;
  if (num_kv_slots == 0) return invalid_argument("init_kv_cache was not called");
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
    if (s.input_embeds && (info.hidden_size <= 0 || s.input_embeds->size() % info.hidden_size != 0))
      return invalid_argument("input_embeds must be whole rows of hidden_size floats");
    tokens += s.new_len;
  }
  if (tokens != b.num_tokens()) return invalid_argument("segments do not cover input_ids");
  for (int32_t slot : b.kv_slots)
    if (slot < 0 || slot >= num_kv_slots)
      return invalid_argument(fmt::format("KV slot {} out of range", slot));
  for (int layer : b.capture_hidden_layers)
    if (layer < 0 || layer >= info.num_layers)
      return invalid_argument(
          fmt::format("hidden-state capture of layer {}: the model has {} layers", layer, info.num_layers));
  if (static_cast<int64_t>(in.sampling.size()) != b.num_logit_rows())
    return invalid_argument("one RowSampling per logits row is required");
  return {};
}

Result<std::vector<int32_t>> LastSampledTokens::resolve(const std::vector<int32_t>& ids,
                                                        int64_t vocab_size) const {
  std::vector<int32_t> out = ids;
  for (auto& id : out) {
    if (is_placeholder(id)) {
      const int32_t slot = placeholder_slot(id);
      if (slot >= static_cast<int32_t>(last_.size()) || last_[slot] < 0)
        return invalid_argument(fmt::format("placeholder for request slot {} has no sampled token", slot));
      id = last_[slot];
    } else if (id >= vocab_size) {
      return invalid_argument(fmt::format("token id {} outside the vocabulary ({})", id, vocab_size));
    }
  }
  return out;
}

void LastSampledTokens::record(const std::vector<RowSampling>& sampling, const std::vector<RowResult>& rows) {
  for (size_t r = 0; r < rows.size() && r < sampling.size(); ++r) {
    const RowSampling& rs = sampling[r];
    if (!rs.sample || rs.req_slot < 0) continue;
    if (rs.req_slot >= static_cast<int32_t>(last_.size()))
      last_.resize(static_cast<size_t>(rs.req_slot) + 1, -1);
    last_[rs.req_slot] = rows[r].token;
  }
}

}  // namespace sgl::engine
