// The profiler behind /start_profile, /stop_profile and /profile_status (SGLang's routes and
// request fields): captures the trace recorder's spans (base/trace.h: HTTP exchanges, requests
// from arrival to finish, scheduler steps, forwards and their kernels) and writes them as a gzipped
// Chrome / Perfetto trace, `[<prefix>-]<profile_id>-TP-<rank>.trace.json.gz` in the output
// directory (SGLang's file name), on its own thread so that no reactor or scheduler thread waits
// on the disk.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"
#include "base/trace.h"
#include "server/protocol/profile_request.h"

namespace sgl::server {

// Where traces go when the request names no directory: SGLANG_TORCH_PROFILER_DIR,
// SGLANG_JAX_PROFILER_DIR, else /tmp.
std::string default_profile_dir();

class Profiler {
 public:
  explicit Profiler(int tp_rank = 0);
  ~Profiler();
  Profiler(const Profiler&) = delete;
  Profiler& operator=(const Profiler&) = delete;

  // Arms a capture. Errors: one is already in progress; the directory cannot be written.
  Status start(const ProfileOptions& opt);
  // Ends the capture and writes its trace; `done` gets the file's path (on the writer thread).
  // Error (at once, not through `done`): no capture is in progress.
  Status stop(std::function<void(Result<std::string>)> done);
  bool in_progress() const { return trace::active(); }
  // The last trace written (empty: none yet).
  std::string last_trace() const;

 private:
  struct Job {
    trace::Capture capture;
    std::string path;
    std::function<void(Result<std::string>)> done;
  };
  // Shared with the recorder's step-limit callback, which may still run on the forward worker
  // after this object is gone (then nobody writes what it hands over).
  struct Queue {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<Job> jobs;
    bool stopping = false;
    std::string path;  // the capture now armed: its file
    std::string last;  // the last trace written
    void push(Job job);
  };
  void run();
  Result<std::string> write(const Job& job) const;

  int tp_rank_;
  std::shared_ptr<Queue> q_ = std::make_shared<Queue>();
  std::thread writer_;
};

}  // namespace sgl::server
