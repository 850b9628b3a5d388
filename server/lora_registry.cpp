#include "server/lora_registry.h"

#include <fmt/format.h>

namespace sgl::server {

LoraHandle::LoraHandle(std::shared_ptr<LoraEntry> entry) : entry_(std::move(entry)) {
  if (entry_) entry_->in_flight.fetch_add(1, std::memory_order_acq_rel);
}

LoraHandle& LoraHandle::operator=(LoraHandle&& o) noexcept {
  if (this != &o) {
    release();
    entry_ = std::move(o.entry_);
  }
  return *this;
}

void LoraHandle::release() {
  if (entry_) entry_->in_flight.fetch_sub(1, std::memory_order_acq_rel);
  entry_.reset();
}

Result<std::shared_ptr<const engine::LoraAdapter>> read_lora_adapter(const LoraReadContext& ctx,
                                                                     const std::string& name,
                                                                     const std::string& path, bool pinned) {
  if (!ctx.base)
    return unsupported(
        "LoRA adapters need the base model's config, which this runner does not have (a test runner such "
        "as --test-zero-cost-runner)");
  auto adapter = engine::load_peft_adapter(path, *ctx.base, ctx.limits, name, engine::next_lora_uid());
  if (!adapter.ok()) return std::move(adapter).take_error();
  std::shared_ptr<engine::LoraAdapter> a = std::move(adapter).value();
  a->pinned = pinned;
  if (a->path.empty()) a->path = path;
  return std::shared_ptr<const engine::LoraAdapter>(std::move(a));
}

LoraRegistry::LoraRegistry(LoraReadContext ctx, LoraRegistryLimits limits)
    : ctx_(std::make_shared<const LoraReadContext>(std::move(ctx))), limits_(limits) {}

std::shared_ptr<const LoraReadContext> LoraRegistry::read_context() const {
  std::lock_guard lock(mu_);
  return ctx_;
}

void LoraRegistry::set_max_rank(int32_t rank) {
  std::lock_guard lock(mu_);
  LoraReadContext next = *ctx_;
  next.limits.max_rank = rank;
  ctx_ = std::make_shared<const LoraReadContext>(std::move(next));
}

int32_t LoraRegistry::max_rank() const {
  std::lock_guard lock(mu_);
  return ctx_->limits.max_rank;
}

std::string LoraRegistry::names_locked() const {
  std::string out = "[";
  for (size_t i = 0; i < entries_.size(); ++i) out += fmt::format("{}'{}'", i ? ", " : "", entries_[i].first);
  return out + "]";
}

size_t LoraRegistry::find_locked(std::string_view name) const {
  for (size_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].first == name) return i;
  return entries_.size();
}

Status LoraRegistry::check_add_locked(std::string_view name, std::string_view path, bool pinned) const {
  if (find_locked(name) != entries_.size())
    return invalid_argument(
        fmt::format("LoRA with name {} already exists. Loaded LoRAs: {}", name, names_locked()));
  if (limits_.max_loaded > 0 && int64_t(entries_.size()) >= limits_.max_loaded)
    return invalid_argument(fmt::format(
        "Cannot load LoRA adapter {} at path {}. Maximum number of loaded LoRA adapters is {}. Please unload "
        "some LoRA adapters before loading new ones.",
        name, path, limits_.max_loaded));
  if (pinned) {
    int pinned_now = 0;
    for (const auto& [n, e] : entries_) pinned_now += e->adapter->pinned ? 1 : 0;
    if (pinned_now >= limits_.max_pinned)
      return invalid_argument(fmt::format(
          "Failed to load LoRA adapter {} as a pinned adapter. It is not allowed to pin all slots in the "
          "LoRA "
          "memory pool to avoid starvation for unpinned adapters and base models. Please increase your "
          "`--max-loras-per-batch` or load it as unpinned LoRA adapters.",
          name));
  }
  return ok_status();
}

Status LoraRegistry::check_add(std::string_view name, std::string_view path, bool pinned) const {
  std::lock_guard lock(mu_);
  return check_add_locked(name, path, pinned);
}

Status LoraRegistry::add(std::shared_ptr<const engine::LoraAdapter> adapter) {
  std::lock_guard lock(mu_);
  // Checked again: two loads of one name race only until here.
  SGL_TRY(check_add_locked(adapter->name, adapter->path, adapter->pinned));
  auto entry = std::make_shared<LoraEntry>();
  entry->adapter = std::move(adapter);
  std::string name = entry->adapter->name;
  entries_.emplace_back(std::move(name), std::move(entry));
  return ok_status();
}

Result<LoraHandle> LoraRegistry::acquire(std::string_view name) {
  // Lookup and count under one lock, so an unload cannot remove the name in between and then
  // see no request using it.
  std::lock_guard lock(mu_);
  const size_t i = find_locked(name);
  if (i == entries_.size())
    return invalid_argument(
        fmt::format("The following requested LoRA adapters are not loaded: {}\nLoaded adapters: {}.", name,
                    names_locked()));
  return LoraHandle(entries_[i].second);
}

Result<std::shared_ptr<const LoraEntry>> LoraRegistry::remove(std::string_view name) {
  std::lock_guard lock(mu_);
  const size_t i = find_locked(name);
  if (i == entries_.size())
    return invalid_argument(
        fmt::format("LoRA with name {} does not exist. Loaded LoRAs: {}", name, names_locked()));
  std::shared_ptr<const LoraEntry> entry = entries_[i].second;
  entries_.erase(entries_.begin() + std::ptrdiff_t(i));
  return entry;
}

std::vector<std::pair<std::string, std::string>> LoraRegistry::loaded() const {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, e] : entries_) out.emplace_back(name, e->adapter->path);
  return out;
}

int64_t LoraRegistry::in_flight() const {
  std::lock_guard lock(mu_);
  int64_t n = 0;
  for (const auto& [name, e] : entries_) n += e->in_flight.load(std::memory_order_acquire);
  return n;
}

}  // namespace sgl::server
