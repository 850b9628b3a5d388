#include "engine/models/decoder_lora.h"

#include <fmt/format.h>
#include <tbb/parallel_for.h>

#include <algorithm>

namespace sgl::engine {
namespace {

// Rows [r0, r0 + rows) × columns [c0, c0 + cols) of a row-major [.., stride] matrix.
std::vector<float> block(const std::vector<float>& m, int64_t stride, int64_t r0, int64_t rows, int64_t c0,
                         int64_t cols) {
  std::vector<float> out(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    std::copy(m.begin() + (r0 + r) * stride + c0, m.begin() + (r0 + r) * stride + c0 + cols,
              out.begin() + r * cols);
  return out;
}

cpu::PackedWeight pack(const std::vector<float>& m, int64_t n, int64_t k, DType compute) {
  auto w = cpu::PackedWeight::pack(m.data(), DType::kF32, n, k, compute);
  w.lay_out_for_kernels();
  return w;
}

}  // namespace

Status LoraSlots::install(int slot, const LoraAdapter* adapter, const ModelConfig& c,
                          const ShardPlan& shard) {
  if (slot < 0 || slot >= num_slots())
    return invalid_argument(fmt::format("LoRA slot {} out of range (the runner has {})", slot, num_slots()));
  Slot s;
  if (adapter == nullptr) {
    slots_[static_cast<size_t>(slot)] = std::move(s);
    return {};
  }
  if (adapter->layers.size() != static_cast<size_t>(c.num_layers))
    return invalid_argument(fmt::format("LoRA adapter '{}' has {} layers, the model {}", adapter->name,
                                        adapter->layers.size(), c.num_layers));
  const int64_t d = c.head_dim, h = c.hidden_size;
  const int64_t hq = int64_t{shard.q_heads} * d, hkv = int64_t{shard.kv_heads} * d;
  const int64_t q0 = int64_t{shard.q_head0} * d, kv0 = int64_t{shard.kv_head0} * d;
  const int64_t full_q = int64_t{c.num_heads} * d, full_i = c.intermediate_size;
  s.uid = adapter->uid;
  s.layers.resize(static_cast<size_t>(c.num_layers));
  for (int l = 0; l < c.num_layers; ++l) {
    const auto& mods = adapter->layers[static_cast<size_t>(l)];
    auto mod = [&](LoraModule m) -> const LoraModuleWeights& { return mods[static_cast<size_t>(m)]; };
    Layer& out = s.layers[static_cast<size_t>(l)];
    // Column-parallel groups: A whole (stacked), B's rows of this rank's outputs.
    auto column_group = [&](Product& g, std::initializer_list<LoraModule> ms, int64_t in) {
      std::vector<float> a;
      int32_t total = 0;
      int64_t col = 0;
      for (LoraModule m : ms) {
        const LoraModuleWeights& w = mod(m);
        int64_t row0 = 0, rows = 0;
        switch (m) {
          case LoraModule::kQ:
            row0 = q0, rows = hq;
            break;
          case LoraModule::kK:
          case LoraModule::kV:
            row0 = kv0, rows = hkv;
            break;
          default:
            row0 = shard.inter0, rows = shard.inter;
            break;
        }
        if (w.rank > 0) {
          a.insert(a.end(), w.a.begin(), w.a.end());
          Expand e;
          e.rank = w.rank;
          e.scale = w.scale;
          e.b = pack(block(w.b, w.rank, row0, rows, 0, w.rank), rows, w.rank, compute_);
          e.col0 = col;
          g.expands.push_back(std::move(e));
          total += w.rank;
        }
        col += rows;
      }
      if (total > 0) g.a = pack(a, total, in, compute_);
    };
    // Row-parallel modules: A's columns of this rank's inputs, B whole.
    auto row_group = [&](Product& g, LoraModule m, int64_t col0, int64_t cols, int64_t full_in) {
      const LoraModuleWeights& w = mod(m);
      if (w.rank == 0) return;
      g.a = pack(block(w.a, full_in, 0, w.rank, col0, cols), w.rank, cols, compute_);
      Expand e;
      e.rank = w.rank;
      e.scale = w.scale;
      e.b = pack(w.b, h, w.rank, compute_);
      g.expands.push_back(std::move(e));
    };
    column_group(out.qkv, {LoraModule::kQ, LoraModule::kK, LoraModule::kV}, h);
    row_group(out.o, LoraModule::kO, q0, hq, full_q);
    column_group(out.gate_up, {LoraModule::kGate, LoraModule::kUp}, h);
    row_group(out.down, LoraModule::kDown, shard.inter0, shard.inter, full_i);
  }
  slots_[static_cast<size_t>(slot)] = std::move(s);
  return {};
}

Status LoraSlots::validate(const ForwardBatch& batch) const {
  for (const Segment& seg : batch.segments) {
    if (seg.lora_slot < 0) continue;
    if (seg.lora_slot >= num_slots())
      return invalid_argument(fmt::format("segment names LoRA slot {}, but the runner has {} slots{}",
                                          seg.lora_slot, num_slots(),
                                          slots_.empty() ? " (LoRA not enabled)" : ""));
    if (slots_[static_cast<size_t>(seg.lora_slot)].uid == 0)
      return invalid_argument(
          fmt::format("segment names LoRA slot {}, which holds no adapter", seg.lora_slot));
  }
  return {};
}

const LoraSlots::Product& LoraSlots::Layer::of(Group g) const {
  switch (g) {
    case Group::kQkv:
      return qkv;
    case Group::kO:
      return o;
    case Group::kGateUp:
      return gate_up;
    case Group::kDown:
      return down;
  }
  return qkv;
}

void LoraSlots::add(Group group, int layer, const ForwardBatch& batch, const float* x, int64_t in, float* y,
                    int64_t y_width) const {
  if (slots_.empty()) return;
  // Rows per slot, in batch order.
  std::vector<std::pair<int32_t, std::vector<int64_t>>> by_slot;
  int64_t tok = 0;
  for (const Segment& seg : batch.segments) {
    if (seg.lora_slot >= 0 && seg.lora_slot < num_slots()) {
      auto it = std::find_if(by_slot.begin(), by_slot.end(),
                             [&](const auto& p) { return p.first == seg.lora_slot; });
      if (it == by_slot.end()) it = by_slot.insert(by_slot.end(), {seg.lora_slot, {}});
      for (int64_t i = 0; i < seg.new_len; ++i) it->second.push_back(tok + i);
    }
    tok += seg.new_len;
  }
  // One task per adapter: their rows are disjoint, so they write disjoint rows of y. A decode
  // batch's products are each too small for the GEMM to split over cores; the adapters can.
  auto run_slot = [&](size_t i) {
    const auto& [slot, rows] = by_slot[i];
    const Slot& s = slots_[static_cast<size_t>(slot)];
    if (s.uid == 0) return;
    const Product& g = s.layers[static_cast<size_t>(layer)].of(group);
    if (g.empty()) return;
    // Buffers of the task's own (not thread_local: a GEMM that splits over cores lets this thread
    // run another adapter's task meanwhile).
    const auto n = static_cast<int64_t>(rows.size());
    std::vector<float> xs(static_cast<size_t>(n * in));
    for (int64_t r = 0; r < n; ++r) std::copy(x + rows[r] * in, x + (rows[r] + 1) * in, xs.data() + r * in);
    const int64_t total = g.a.n();
    std::vector<float> sh(static_cast<size_t>(n * total)), sc, ex;
    cpu::linear(xs.data(), n, g.a, nullptr, sh.data());
    int64_t off = 0;
    for (const Expand& e : g.expands) {
      sc.resize(static_cast<size_t>(n * e.rank));
      for (int64_t r = 0; r < n; ++r)
        for (int32_t j = 0; j < e.rank; ++j) sc[r * e.rank + j] = e.scale * sh[r * total + off + j];
      const int64_t out = e.b.n();
      ex.resize(static_cast<size_t>(n * out));
      cpu::linear(sc.data(), n, e.b, nullptr, ex.data());
      for (int64_t r = 0; r < n; ++r) {
        float* yr = y + rows[r] * y_width + e.col0;
        const float* er = ex.data() + r * out;
        for (int64_t j = 0; j < out; ++j) yr[j] += er[j];
      }
      off += e.rank;
    }
  };
  if (by_slot.size() == 1) {
    run_slot(0);
  } else {
    tbb::parallel_for(size_t{0}, by_slot.size(), run_slot);
  }
}

}  // namespace sgl::engine
