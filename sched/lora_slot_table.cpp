#include "sched/lora_slot_table.h"

#include <algorithm>

namespace sgl::sched {

void LoraSlotTable::init(int num_slots, bool lru) {
  slots_.assign(static_cast<size_t>(std::max(num_slots, 0)), Slot{});
  lru_ = lru;
}

int32_t LoraSlotTable::find(uint64_t uid) const {
  for (size_t i = 0; i < slots_.size(); ++i)
    if (slots_[i].adapter && slots_[i].adapter->uid == uid) return static_cast<int32_t>(i);
  return -1;
}

int32_t LoraSlotTable::victim() const {
  int32_t best = -1;
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = slots_[i];
    if (!s.adapter) return static_cast<int32_t>(i);
    if (s.refs > 0 || s.adapter->pinned) continue;
    const uint64_t key = lru_ ? s.last_used : s.loaded;
    if (best < 0 || key < (lru_ ? slots_[best].last_used : slots_[best].loaded))
      best = static_cast<int32_t>(i);
  }
  return best;
}

bool LoraSlotTable::can_admit(uint64_t uid, const std::vector<uint64_t>& batch_uids) const {
  std::vector<uint64_t> distinct(batch_uids);
  distinct.push_back(uid);
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  if (static_cast<int>(distinct.size()) > num_slots()) return false;
  if (uid == 0 || find(uid) >= 0) return true;
  return victim() >= 0;
}

int32_t LoraSlotTable::acquire(const std::shared_ptr<const engine::LoraAdapter>& adapter,
                               std::vector<engine::LoraSlotLoad>& loads) {
  if (!adapter) return -1;
  int32_t s = find(adapter->uid);
  if (s < 0) {
    s = victim();
    if (s < 0) return -1;  // can_admit said no; callers check it first
    Slot& slot = slots_[static_cast<size_t>(s)];
    if (slot.adapter) ++evictions_;
    slot.adapter = adapter;
    slot.refs = 0;
    slot.loaded = ++clock_;
    ++loads_;
    loads.push_back({s, adapter});
  }
  Slot& slot = slots_[static_cast<size_t>(s)];
  ++slot.refs;
  slot.last_used = ++clock_;
  return s;
}

void LoraSlotTable::release(int32_t slot) {
  if (slot < 0 || slot >= num_slots()) return;
  Slot& s = slots_[static_cast<size_t>(slot)];
  if (s.refs > 0) --s.refs;
}

void LoraSlotTable::drop(uint64_t uid) {
  const int32_t s = find(uid);
  if (s < 0) return;
  slots_[static_cast<size_t>(s)] = Slot{};
  pending_.push_back({s, nullptr});
}

void LoraSlotTable::take_pending(std::vector<engine::LoraSlotLoad>& loads) {
  loads.insert(loads.end(), pending_.begin(), pending_.end());
  pending_.clear();
}

void LoraSlotTable::restore_pending(std::vector<engine::LoraSlotLoad>& loads) {
  pending_.insert(pending_.begin(), loads.begin(), loads.end());
  loads.clear();
}

int64_t LoraSlotTable::used() const {
  return std::count_if(slots_.begin(), slots_.end(), [](const Slot& s) { return s.adapter != nullptr; });
}

}  // namespace sgl::sched
