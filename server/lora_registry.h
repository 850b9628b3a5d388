// The LoRA adapters this server answers for, by name (SGLang's LoRARegistry): each registered
// name maps to one loaded adapter and a count of the requests that use it. Requests acquire a
// handle that holds the count up; unloading removes the name at once (new requests are refused)
// and the route waits for the count to drop to zero before the scheduler forgets the adapter.
// Thread-safe: every reactor thread acquires, the load/unload routes add and remove.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "engine/lora/lora_adapter.h"
#include "engine/model_config.h"

namespace sgl::server {

// One loaded adapter and the requests using it.
struct LoraEntry {
  std::shared_ptr<const engine::LoraAdapter> adapter;
  std::atomic<int64_t> in_flight{0};
};

// A request's use of an adapter: the entry's in-flight count stays up while the handle lives.
class LoraHandle {
 public:
  LoraHandle() = default;
  explicit LoraHandle(std::shared_ptr<LoraEntry> entry);
  LoraHandle(LoraHandle&& o) noexcept : entry_(std::move(o.entry_)) {}
  LoraHandle& operator=(LoraHandle&& o) noexcept;
  LoraHandle(const LoraHandle&) = delete;
  LoraHandle& operator=(const LoraHandle&) = delete;
  ~LoraHandle() { release(); }

  std::shared_ptr<const engine::LoraAdapter> adapter() const { return entry_ ? entry_->adapter : nullptr; }

 private:
  void release();
  std::shared_ptr<LoraEntry> entry_;
};

// What an adapter is read against. Fixed once the server starts, shared with reader threads.
struct LoraReadContext {
  std::shared_ptr<const engine::ModelConfig> base;
  engine::LoraLimits limits;  // --max-lora-rank, --lora-target-modules
};

// Reads and checks a PEFT adapter directory for the base model, with a fresh identity. Blocking
// (seconds for a big adapter): callers run it off the reactor.
Result<std::shared_ptr<const engine::LoraAdapter>> read_lora_adapter(const LoraReadContext& ctx,
                                                                     const std::string& name,
                                                                     const std::string& path, bool pinned);

struct LoraRegistryLimits {
  int max_loaded = 0;  // --max-loaded-loras (0: no limit)
  int max_pinned = 0;  // --max-loras-per-batch - 1: a slot stays free for the others
};

class LoraRegistry {
 public:
  LoraRegistry(LoraReadContext ctx, LoraRegistryLimits limits);

  std::shared_ptr<const LoraReadContext> read_context() const;
  // The rank inferred from the --lora-paths adapters at start (later loads must fit it).
  void set_max_rank(int32_t rank);

  // Quick refusals before reading an adapter: the name is taken, the host cap or the pin cap is
  // reached. add() checks again, since another load may have won meanwhile.
  Status check_add(std::string_view name, std::string_view path, bool pinned) const;
  Status add(std::shared_ptr<const engine::LoraAdapter> adapter);

  // A request's handle on `name`; an unknown name is SGLang's "not loaded" error.
  Result<LoraHandle> acquire(std::string_view name);

  // Unregisters `name` (new requests are refused from now on) and returns its entry, whose
  // in_flight count tells when the last request using it is done.
  Result<std::shared_ptr<const LoraEntry>> remove(std::string_view name);

  // Registered adapters in load order: name and path.
  std::vector<std::pair<std::string, std::string>> loaded() const;
  // Requests holding a handle on a registered adapter (0 once traffic is done: no leak).
  int64_t in_flight() const;
  int32_t max_rank() const;

 private:
  std::string names_locked() const;  // "['a', 'b']" as SGLang's messages list them
  size_t find_locked(std::string_view name) const;
  Status check_add_locked(std::string_view name, std::string_view path, bool pinned) const;

  mutable std::mutex mu_;
  std::shared_ptr<const LoraReadContext> ctx_;  // replaced, never changed: readers keep theirs
  LoraRegistryLimits limits_;
  std::vector<std::pair<std::string, std::shared_ptr<LoraEntry>>> entries_;  // load order
};

}  // namespace sgl::server
