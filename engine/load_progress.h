// Progress of a checkpoint load, logged while big checkpoints load:
//   "Loading safetensors shards: 3/17, 12.4/40.1 GB, 310 MB/s"
// at most once a second, and a last line at the end. Small checkpoints that load quickly log
// nothing: a line appears only once the checkpoint is over `min_total_bytes` or loading has taken
// `min_elapsed`. A tensor counts (once) when the loader first asks for it; a shard counts once
// loading has reached it. Thread-safe: tensor-parallel ranks may share one.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace sgl::engine {

struct LoadProgressOptions {
  int64_t min_total_bytes = int64_t{1} << 30;   // log a checkpoint over this size from the start,
  std::chrono::milliseconds min_elapsed{2000};  // or any once loading has taken this long,
  std::chrono::milliseconds interval{1000};     // at most one line per interval
};

class LoadProgress {
 public:
  using Clock = std::chrono::steady_clock;
  using Options = LoadProgressOptions;
  // `shard_bytes`: the tensor bytes of each shard, in file order. `sink` gets each line (default:
  // spdlog info); `now` is the clock (tests pass their own).
  LoadProgress(std::vector<int64_t> shard_bytes, Options opt = {},
               std::function<void(const std::string&)> sink = {},
               std::function<Clock::time_point()> now = {});

  // The loader asked for a tensor (`key` identifies it) of `bytes` in shard `shard`.
  void add(const void* key, size_t shard, int64_t bytes);
  // The load is over: the last line, if the load was big or slow enough to log at all.
  void finish();

  int64_t bytes_done() const;
  size_t shards_reached() const;
  // The progress line as it would be logged now.
  std::string line() const;

 private:
  std::string line_locked(Clock::time_point now) const;
  bool worth_logging(Clock::time_point now) const;

  std::vector<int64_t> shard_bytes_;
  int64_t total_bytes_ = 0;
  Options opt_;
  std::function<void(const std::string&)> sink_;
  std::function<Clock::time_point()> now_;
  mutable std::mutex mu_;
  std::unordered_set<const void*> seen_;
  std::vector<bool> reached_;
  size_t num_reached_ = 0;
  int64_t done_ = 0;
  Clock::time_point start_, last_line_;
  bool logged_ = false;
  bool finished_ = false;
};

}  // namespace sgl::engine
