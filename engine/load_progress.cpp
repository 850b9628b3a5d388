#include "engine/load_progress.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace sgl::engine {

LoadProgress::LoadProgress(std::vector<int64_t> shard_bytes, Options opt,
                           std::function<void(const std::string&)> sink,
                           std::function<Clock::time_point()> now)
    : shard_bytes_(std::move(shard_bytes)),
      opt_(opt),
      sink_(sink ? std::move(sink) : [](const std::string& l) { spdlog::info("{}", l); }),
      now_(now ? std::move(now) : [] { return Clock::now(); }),
      reached_(shard_bytes_.size(), false) {
  for (int64_t b : shard_bytes_) total_bytes_ += b;
  start_ = last_line_ = now_();
}

bool LoadProgress::worth_logging(Clock::time_point now) const {
  return total_bytes_ > opt_.min_total_bytes || now - start_ >= opt_.min_elapsed;
}

void LoadProgress::add(const void* key, size_t shard, int64_t bytes) {
  std::string out;
  {
    std::lock_guard lock(mu_);
    if (finished_ || !seen_.insert(key).second) return;
    done_ += bytes;
    if (shard < reached_.size() && !reached_[shard]) {
      reached_[shard] = true;
      ++num_reached_;
    }
    const auto now = now_();
    if (!worth_logging(now) || now - last_line_ < opt_.interval) return;
    last_line_ = now;
    logged_ = true;
    out = line_locked(now);
  }
  sink_(out);  // outside the lock: a slow sink must not hold up other ranks
}

void LoadProgress::finish() {
  std::string out;
  {
    std::lock_guard lock(mu_);
    if (finished_) return;
    finished_ = true;
    const auto now = now_();
    if (!logged_ && !worth_logging(now)) return;
    const double secs = std::chrono::duration<double>(now - start_).count();
    out = fmt::format("Loaded safetensors shards: {}/{}, {:.1f} GB in {:.1f} s ({:.0f} MB/s)", num_reached_,
                      shard_bytes_.size(), static_cast<double>(done_) / 1e9, secs,
                      secs > 0 ? static_cast<double>(done_) / 1e6 / secs : 0.0);
  }
  sink_(out);
}

int64_t LoadProgress::bytes_done() const {
  std::lock_guard lock(mu_);
  return done_;
}

size_t LoadProgress::shards_reached() const {
  std::lock_guard lock(mu_);
  return num_reached_;
}

std::string LoadProgress::line() const {
  std::lock_guard lock(mu_);
  return line_locked(now_());
}

std::string LoadProgress::line_locked(Clock::time_point now) const {
  const double secs = std::chrono::duration<double>(now - start_).count();
  return fmt::format("Loading safetensors shards: {}/{}, {:.1f}/{:.1f} GB, {:.0f} MB/s", num_reached_,
                     shard_bytes_.size(), static_cast<double>(done_) / 1e9,
                     static_cast<double>(total_bytes_) / 1e9,
                     secs > 0 ? static_cast<double>(done_) / 1e6 / secs : 0.0);
}

}  // namespace sgl::engine
