#include "engine/dist/step_codec.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <type_traits>

namespace sgl::engine::dist {
namespace {

class Writer {
 public:
  template <class T>
  void pod(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    out_.insert(out_.end(), p, p + sizeof(T));
  }
  template <class T>
  void vec(const std::vector<T>& v) {
    pod(static_cast<uint64_t>(v.size()));
    const auto* p = reinterpret_cast<const uint8_t*>(v.data());
    out_.insert(out_.end(), p, p + v.size() * sizeof(T));
  }
  void str(const std::string& s) { vec(std::vector<char>(s.begin(), s.end())); }
  std::vector<uint8_t> take() { return std::move(out_); }

 private:
  std::vector<uint8_t> out_;
};

class Reader {
 public:
  explicit Reader(const std::vector<uint8_t>& in) : in_(in) {}
  template <class T>
  bool pod(T& v) {
    if (pos_ + sizeof(T) > in_.size()) return false;
    std::memcpy(&v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  template <class T>
  bool vec(std::vector<T>& v) {
    uint64_t n = 0;
    if (!pod(n) || n > (in_.size() - pos_) / sizeof(T)) return false;
    v.resize(n);
    std::memcpy(v.data(), in_.data() + pos_, n * sizeof(T));
    pos_ += n * sizeof(T);
    return true;
  }
  bool str(std::string& s) {
    std::vector<char> v;
    if (!vec(v)) return false;
    s.assign(v.begin(), v.end());
    return true;
  }
  bool done() const { return pos_ == in_.size(); }

 private:
  const std::vector<uint8_t>& in_;
  size_t pos_ = 0;
};

}  // namespace

std::vector<uint8_t> encode_forward(const ForwardBatch& b, const std::vector<int32_t>& ids,
                                    int64_t hidden_size) {
  Writer w;
  w.vec(ids);
  w.vec(b.positions);
  w.vec(b.kv_slots);
  w.vec(b.capture_hidden_layers);
  w.pod(static_cast<uint64_t>(b.segments.size()));
  for (const auto& s : b.segments) {
    w.pod(s.prefix_len);
    w.pod(s.new_len);
    w.pod(s.slot_offset);
    w.pod(s.logits_start);
    w.pod(s.ntk_alpha);
    w.pod(s.lora_slot);
    w.vec(s.tree_mask);
    // input_embeds: only the rows of this segment's new tokens travel.
    std::vector<float> rows;
    int32_t start = 0;
    if (s.input_embeds && hidden_size > 0) {
      const auto total = static_cast<int64_t>(s.input_embeds->size()) / hidden_size;
      const int64_t first = std::max<int64_t>(s.prefix_len, s.input_embeds_start);
      const int64_t end = std::min<int64_t>(s.prefix_len + s.new_len, s.input_embeds_start + total);
      if (first < end) {
        const float* p = s.input_embeds->data() + (first - s.input_embeds_start) * hidden_size;
        rows.assign(p, p + (end - first) * hidden_size);
        start = static_cast<int32_t>(first);
      }
    }
    w.pod(start);
    w.vec(rows);
  }
  return w.take();
}

Status decode_forward(const std::vector<uint8_t>& bytes, ForwardBatch& b, std::vector<int32_t>& ids) {
  Reader r(bytes);
  uint64_t n = 0;
  bool ok =
      r.vec(ids) && r.vec(b.positions) && r.vec(b.kv_slots) && r.vec(b.capture_hidden_layers) && r.pod(n);
  if (ok && n > bytes.size()) ok = false;
  b.segments.clear();
  for (uint64_t i = 0; ok && i < n; ++i) {
    Segment s;
    ok = r.pod(s.prefix_len) && r.pod(s.new_len) && r.pod(s.slot_offset) && r.pod(s.logits_start) &&
         r.pod(s.ntk_alpha) && r.pod(s.lora_slot) && r.vec(s.tree_mask);
    std::vector<float> rows;
    ok = ok && r.pod(s.input_embeds_start) && r.vec(rows);
    if (ok && !rows.empty()) s.input_embeds = std::make_shared<const std::vector<float>>(std::move(rows));
    b.segments.push_back(std::move(s));
  }
  if (!ok || !r.done()) return corrupt("tensor-parallel step message is malformed");
  b.input_ids = ids;
  return {};
}

std::vector<uint8_t> encode_init_kv(int64_t num_slots, int page_size) {
  Writer w;
  w.pod(num_slots);
  w.pod(static_cast<int32_t>(page_size));
  return w.take();
}

Status decode_init_kv(const std::vector<uint8_t>& bytes, int64_t& num_slots, int& page_size) {
  Reader r(bytes);
  int32_t p = 0;
  if (!r.pod(num_slots) || !r.pod(p) || !r.done())
    return corrupt("tensor-parallel init message is malformed");
  page_size = p;
  return {};
}

std::vector<uint8_t> encode_init_lora(const LoraPoolConfig& c) {
  Writer w;
  w.pod(c.num_slots);
  w.pod(c.max_rank);
  w.pod(c.modules);
  return w.take();
}

Status decode_init_lora(const std::vector<uint8_t>& bytes, LoraPoolConfig& c) {
  Reader r(bytes);
  if (!r.pod(c.num_slots) || !r.pod(c.max_rank) || !r.pod(c.modules) || !r.done())
    return corrupt("tensor-parallel LoRA init message is malformed");
  return {};
}

std::vector<uint8_t> encode_lora_load(const LoraSlotLoad& load) {
  Writer w;
  w.pod(load.slot);
  w.pod(static_cast<uint8_t>(load.adapter != nullptr));
  if (const LoraAdapter* a = load.adapter.get()) {
    w.str(a->name);
    w.str(a->path);
    w.pod(a->uid);
    w.pod(a->max_rank);
    w.pod(a->modules);
    w.pod(static_cast<uint64_t>(a->layers.size()));
    for (const auto& layer : a->layers)
      for (const LoraModuleWeights& m : layer) {
        w.pod(m.rank);
        w.pod(m.scale);
        w.vec(m.a);
        w.vec(m.b);
      }
  }
  return w.take();
}

Status decode_lora_load(const std::vector<uint8_t>& bytes, LoraSlotLoad& load) {
  Reader r(bytes);
  uint8_t has = 0;
  bool ok = r.pod(load.slot) && r.pod(has);
  load.adapter.reset();
  if (ok && has) {
    auto a = std::make_shared<LoraAdapter>();
    uint64_t layers = 0;
    ok = r.str(a->name) && r.str(a->path) && r.pod(a->uid) && r.pod(a->max_rank) && r.pod(a->modules) &&
         r.pod(layers) && layers <= bytes.size();
    if (ok) a->layers.resize(layers);
    for (auto& layer : a->layers)
      for (LoraModuleWeights& m : layer)
        ok = ok && r.pod(m.rank) && r.pod(m.scale) && r.vec(m.a) && r.vec(m.b);
    load.adapter = std::move(a);
  }
  if (!ok || !r.done()) return corrupt("tensor-parallel LoRA load message is malformed");
  return {};
}

}  // namespace sgl::engine::dist
