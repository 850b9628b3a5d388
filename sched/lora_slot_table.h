// Which LoRA adapter sits in each of the runner's slots (SGLang's LoRA memory pool, seen from the
// scheduler). An admitted request holds its adapter's slot until its KV is released; a slot no
// request holds may be given to another adapter (LRU or FIFO), except a pinned adapter's. Loads
// travel with the step that first needs them (StepInput::lora_loads), so the runner changes a
// slot only between the forwards that use it, whatever the overlap pipeline has in flight.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/model_runner.h"

namespace sgl::sched {

class LoraSlotTable {
 public:
  void init(int num_slots, bool lru);
  bool enabled() const { return !slots_.empty(); }
  int num_slots() const { return static_cast<int>(slots_.size()); }

  // Whether a request with adapter `uid` (0: the base model) may join a batch whose requests use
  // `batch_uids` (0 included for base requests): the distinct adapters, base counted as one, stay
  // within the slot count, and the adapter is resident or a slot can be freed for it.
  bool can_admit(uint64_t uid, const std::vector<uint64_t>& batch_uids) const;
  // Takes a reference on `adapter`'s slot, putting it into one (appended to `loads`) when it is not
  // resident; can_admit must have said yes. Returns the slot (-1 for the base model).
  int32_t acquire(const std::shared_ptr<const engine::LoraAdapter>& adapter,
                  std::vector<engine::LoraSlotLoad>& loads);
  void release(int32_t slot);
  // The adapter was unloaded: its slot is emptied by the next step's loads (`pending_loads`).
  // Its requests are gone (the server waits for them), so nothing holds the slot.
  void drop(uint64_t uid);
  // Loads that wait for the next step (drops); a step that is not launched gives them back.
  void take_pending(std::vector<engine::LoraSlotLoad>& loads);
  void restore_pending(std::vector<engine::LoraSlotLoad>& loads);

  int64_t used() const;
  int64_t loads() const { return loads_; }
  int64_t evictions() const { return evictions_; }

 private:
  struct Slot {
    std::shared_ptr<const engine::LoraAdapter> adapter;  // null: empty
    int32_t refs = 0;                                    // admitted requests using it
    uint64_t last_used = 0;                              // LRU clock (FIFO: load time)
    uint64_t loaded = 0;
  };
  int32_t find(uint64_t uid) const;
  int32_t victim() const;  // an empty slot, else the least recently used / first loaded free one

  std::vector<Slot> slots_;
  bool lru_ = true;
  uint64_t clock_ = 0;
  int64_t loads_ = 0, evictions_ = 0;
  std::vector<engine::LoraSlotLoad> pending_;
};

}  // namespace sgl::sched
