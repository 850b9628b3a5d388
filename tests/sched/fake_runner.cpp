#include "fake_runner.h"

#include <algorithm>

namespace sgl::sched::testing {

namespace {
float bias_of(const engine::SamplingParams* p, int32_t tok) {
  if (p == nullptr) return 0.0f;
  float b = 0.0f;
  for (auto& [id, v] : p->logit_bias)
    if (id == tok) b += v;
  return b;
}
}  // namespace

int32_t fake_sample(uint64_t h, const engine::SamplingParams* p, int64_t step,
                    const std::vector<int32_t>* outputs) {
  uint64_t x = h;
  if (p != nullptr && !p->greedy()) x = mix(mix(h, p->seed.value_or(12345)), static_cast<uint64_t>(step));
  const bool penalized = p != nullptr && (p->frequency_penalty != 0.0f || p->presence_penalty != 0.0f ||
                                          p->repetition_penalty != 1.0f);
  if (penalized) {
    x = mix(x, outputs == nullptr ? 0x77ull : outputs->size());
    if (outputs != nullptr)
      for (int32_t t : *outputs) x = mix(x, static_cast<uint64_t>(t));
  }
  auto tok = static_cast<int32_t>(x % kFakeVocab);
  while (bias_of(p, tok) < -1e6f) tok = (tok + 1) % kFakeVocab;  // a masked id is never sampled
  return tok;
}

FakeRunner::FakeRunner(std::vector<int32_t> eos, int64_t context_length) {
  info_.architecture = "FakeForCausalLM";
  info_.vocab_size = kFakeVocab;
  info_.context_length = context_length;
  info_.eos_token_ids = std::move(eos);
  info_.kv_bytes_per_token = 16;
}

Status FakeRunner::init_kv_cache(int64_t num_slots, int) {
  kv_.assign(static_cast<size_t>(num_slots), 0xdeadbeefull);
  kv_pos_.assign(static_cast<size_t>(num_slots), -1);
  return ok_status();
}

Result<engine::StepOutput> FakeRunner::step(const engine::StepInput& in) {
  if (weights_released_) return invalid_argument("FakeRunner: a step while the weights are released");
  const auto& b = in.batch;
  engine::StepOutput out;
  out.vocab_size = kFakeVocab;
  size_t tok_i = 0, row_i = 0;
  std::vector<std::pair<int32_t, int32_t>> table_updates;
  for (const auto& seg : b.segments) {
    const int32_t* slots = b.kv_slots.data() + seg.slot_offset;
    for (int32_t i = 0; i < seg.new_len; ++i, ++tok_i) {
      int32_t id = b.input_ids[tok_i];
      if (engine::is_placeholder(id)) {
        const int32_t s = engine::placeholder_slot(id);
        if (s >= static_cast<int32_t>(last_token_.size()) || last_token_[s] < 0)
          return internal_error("placeholder without a sampled token");
        id = last_token_[s];
      }
      const int32_t p = seg.prefix_len + i;
      if (b.positions[tok_i] != p) return internal_error("position mismatch");
      uint64_t prev = 0x1234;
      if (p > 0) {
        const int32_t ps = slots[p - 1];
        if (ps < 0 || ps >= static_cast<int32_t>(kv_.size())) return internal_error("slot out of range");
        // The KV of position p-1 must be there: a freed/overwritten slot shows up here or as a
        // different hash (and so different outputs).
        if (kv_pos_[ps] != p - 1) return internal_error("stale KV slot");
        prev = kv_[ps];
      }
      const int32_t s = slots[p];
      if (s < 0 || s >= static_cast<int32_t>(kv_.size())) return internal_error("slot out of range");
      kv_[s] = mix(prev, static_cast<uint64_t>(id));
      kv_pos_[s] = p;
      if (seg.logits_start >= 0 && i >= seg.logits_start) {
        const auto& rs = in.sampling.at(row_i++);
        engine::RowResult r;
        r.token = fake_sample(kv_[s], rs.params, rs.step, rs.output_ids);
        r.logprob = -static_cast<float>(kv_[s] % 97) / 10.0f;
        for (int32_t k = 0; k < rs.top_logprobs_num; ++k)
          r.top.push_back({(r.token + k) % 1000, r.logprob - k});
        for (int32_t id : rs.token_ids_logprob)
          r.requested.push_back(
              {id, -static_cast<float>(mix(kv_[s], static_cast<uint64_t>(id)) % 97) / 10.0f});
        if (rs.sample && rs.req_slot >= 0) table_updates.emplace_back(rs.req_slot, r.token);
        out.rows.push_back(std::move(r));
      }
    }
  }
  for (auto [slot, tok] : table_updates) {
    if (slot >= static_cast<int32_t>(last_token_.size()))
      last_token_.resize(static_cast<size_t>(slot) + 1, -1);
    last_token_[slot] = tok;
  }
  return out;
}

std::vector<int32_t> fake_reference(const std::vector<int32_t>& prompt, int64_t max_new,
                                    const engine::SamplingParams& params,
                                    const std::vector<int32_t>& stop_ids, int64_t min_new) {
  uint64_t h = 0x1234;
  for (int32_t t : prompt) h = mix(h, static_cast<uint64_t>(t));
  engine::SamplingParams masked = params;
  for (int32_t id : stop_ids) masked.logit_bias.emplace_back(id, -1e9f);
  std::vector<int32_t> out;
  while (static_cast<int64_t>(out.size()) < max_new) {
    const int64_t step = static_cast<int64_t>(out.size());
    const int32_t t = fake_sample(h, step < min_new ? &masked : &params, step, &out);
    out.push_back(t);
    if (std::find(stop_ids.begin(), stop_ids.end(), t) != stop_ids.end()) break;
    h = mix(h, static_cast<uint64_t>(t));
  }
  return out;
}

}  // namespace sgl::sched::testing
