// Gives the heap memory a busy spell freed back to the system once the whole process has gone
// quiet. glibc keeps freed chunks resident in its arenas (one per thread that allocates: the
// reactor's threads, the scheduler, the forward worker); malloc_trim(0) returns their free pages.
// The scheduler alone going idle is not enough: the HTTP side frees the finished connections'
// buffers after the last step, so the trim waits until neither has done anything for a while.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace sgl {

// Any thread, cheap (one relaxed atomic increment): the process did work that allocates — an
// HTTP exchange ended, a step ran, buffers were freed.
void note_activity();

// A thread that calls malloc_trim(0) once after each busy spell, when no activity was noted for
// `quiet`. One per process (the server's); without it nothing is trimmed.
class IdleMemoryTrimmer {
 public:
  explicit IdleMemoryTrimmer(std::chrono::milliseconds quiet = std::chrono::seconds(1));
  ~IdleMemoryTrimmer();
  IdleMemoryTrimmer(const IdleMemoryTrimmer&) = delete;
  IdleMemoryTrimmer& operator=(const IdleMemoryTrimmer&) = delete;
  int64_t trims() const;  // how many times it trimmed (tests, logs)

 private:
  void run();
  std::chrono::milliseconds quiet_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  int64_t trims_ = 0;
  std::thread thread_;
};

}  // namespace sgl
