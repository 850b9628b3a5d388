// SGLang-JAX's precision tracer (--enable-precision-tracer; /start_trace, /stop_trace,
// /trace_status): while a trace runs, the next `req_num` requests to start prefilling are traced —
// every forward that carries them records, per request, the statistics of the intermediate
// tensors (engine/tensor_stats.h) — and each traced request becomes one JSON line of the output
// file when it finishes (SGLang-JAX's record: request_id, precision_records {prefill, decode}
// grouped by token, timings). The trace ends by itself after req_num requests, or at /stop_trace,
// which writes the requests still running as "active" records.
//
// Thread-safe: the routes start, stop and query it; the scheduler threads feed it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "engine/tensor_stats.h"

namespace sgl::sched {

class PrecisionTracer {
 public:
  PrecisionTracer() = default;
  ~PrecisionTracer();
  PrecisionTracer(const PrecisionTracer&) = delete;
  PrecisionTracer& operator=(const PrecisionTracer&) = delete;

  struct Snapshot {
    bool active = false;
    int64_t request_counter = 0;  // requests traced so far (this trace)
    int64_t completed = 0;        // of which written
    std::optional<int64_t> max_requests;
    std::string output_file;  // this trace's, or the last one's
    int64_t active_request_traces = 0;
  };

  // Errors: a trace is running; the file cannot be created.
  Status start(std::optional<int64_t> req_num, const std::string& output_file);
  // Ends the trace, writing the requests still running; the file's path. Error: none running.
  Result<std::string> stop();
  Snapshot status() const;
  // Whether forwards should record statistics now (a cheap check for the scheduler).
  bool wants_stats() const { return wants_.load(std::memory_order_relaxed); }

  // Scheduler thread, after a forward: the requests of its segments (rid, tokens before the
  // segment's new ones) and the statistics the engine recorded.
  struct Segment {
    const std::string* rid;
    int64_t prefix_len;                  // tokens before the segment's new ones
    const std::vector<int32_t>* tokens;  // the request's prompt (hashed into the record) and outputs
    int64_t prompt_len;
  };
  void on_step(bool prefill, const std::vector<Segment>& segments,
               const std::vector<engine::TensorStats>& stats);
  // Scheduler thread: the request finished (written when it was traced).
  void on_finish(const std::string& rid);

 private:
  struct Group {
    int64_t token_idx = 0;
    bool prefill = false;
    std::string records;  // JSON objects, comma-separated
  };
  struct Record {
    int64_t index = 0;
    uint64_t bid = 0;
    uint64_t content_hash = 0;
    double start_time = 0;
    std::vector<Group> groups;
  };
  void write_locked(const std::string& rid, Record& r, bool completed);
  void close_locked();

  mutable std::mutex mu_;
  std::atomic<bool> wants_{false};
  bool active_ = false;
  std::optional<int64_t> max_requests_;
  int64_t counter_ = 0, completed_ = 0;
  uint64_t steps_ = 0;
  std::string path_;
  std::FILE* file_ = nullptr;
  std::unordered_map<std::string, Record> records_;
};

}  // namespace sgl::sched
