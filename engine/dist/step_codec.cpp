#include "engine/dist/step_codec.h"

#include <cstring>
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
  bool done() const { return pos_ == in_.size(); }

 private:
  const std::vector<uint8_t>& in_;
  size_t pos_ = 0;
};

}  // namespace

std::vector<uint8_t> encode_forward(const ForwardBatch& b, const std::vector<int32_t>& ids) {
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
    w.vec(s.tree_mask);
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
         r.vec(s.tree_mask);
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

}  // namespace sgl::engine::dist
