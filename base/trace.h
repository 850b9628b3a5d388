// The process-wide trace recorder behind /start_profile and /stop_profile (server/profiler.h):
// spans of the server's threads — HTTP exchanges, scheduler steps, forwards and their layers —
// kept in memory while a capture runs and written as a Chrome / Perfetto trace. Off by default:
// a span then costs one relaxed atomic load, so the hooks stay in the hot paths for good.
//
// Any layer may record (base is below all of them); only the server starts and stops captures.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace sgl::trace {

namespace detail {
extern std::atomic<bool> g_recording;
}  // namespace detail

// Whether spans are being recorded now.
inline bool recording() { return detail::g_recording.load(std::memory_order_relaxed); }

// One Chrome trace event: 'X' (a complete span on its thread), 'b'/'e' (an async span, matched
// by cat and id, e.g. a request from arrival to finish), 'i' (an instant).
struct Event {
  char ph = 'X';
  const char* cat = "";  // a string literal
  std::string name;
  int64_t ts_ns = 0;   // steady clock
  int64_t dur_ns = 0;  // 'X' only
  uint32_t tid = 0;    // the recording thread's trace id
  uint64_t id = 0;     // 'b'/'e'
  std::string args;    // a JSON object's members without the braces ("\"k\":1,\"j\":\"x\""), or ""
};

// A thread's name in the trace (the reactor, the scheduler, the forward worker, ...). Cheap;
// call it once where the thread starts.
void set_thread_name(std::string_view name);

// Builds the `args` of an event: add("batch_size", 16).add("kind", "decode").
class Args {
 public:
  Args& add(std::string_view key, int64_t v);
  Args& add(std::string_view key, double v);
  Args& add(std::string_view key, std::string_view v);
  Args& add(std::string_view key, const char* v) { return add(key, std::string_view(v)); }
  Args& add(std::string_view key, int v) { return add(key, static_cast<int64_t>(v)); }
  std::string take() { return std::move(s_); }

 private:
  void key(std::string_view k);
  std::string s_;
};

// A complete span on the calling thread, recorded at destruction when a capture was running at
// construction. `name` is copied only then.
class Span {
 public:
  Span(const char* cat, std::string_view name);
  ~Span();
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;
  bool active() const { return start_ns_ != 0; }
  // Arguments shown with the span: `build` returns an Args, and runs only when the span
  // records (so an idle server builds no strings).
  template <class Build>
  void set_args(Build&& build) {
    if (active()) args_ = std::forward<Build>(build)().take();
  }

 private:
  const char* cat_;
  std::string name_;
  int64_t start_ns_ = 0;
  std::string args_;
};

void async_begin(const char* cat, std::string_view name, uint64_t id, Args args = {});
void async_end(const char* cat, std::string_view name, uint64_t id, Args args = {});
void instant(const char* cat, std::string_view name, Args args = {});

// A span of known start and end (e.g. a forward timed by its worker, recorded afterwards).
void complete(const char* cat, std::string_view name, std::chrono::steady_clock::time_point start,
              std::chrono::steady_clock::time_point end, Args args = {});

// ---- Captures (the server's profiler) ------------------------------------------------------------

struct StepLimits {
  // Record forwards from the `start_step`-th forward from the process start (SGLang's counting:
  // never earlier than the next one); none: from now.
  std::optional<int64_t> start_step;
  // Stop by itself after this many forwards; none: until stop().
  std::optional<int64_t> num_steps;
};

struct Capture {
  std::vector<Event> events;
  std::vector<std::pair<uint32_t, std::string>> thread_names;  // trace id → name
  int64_t forwards = 0;                                        // forwards recorded
  int64_t dropped = 0;                                         // events beyond the capture's bound, not kept
  bool stopped_by_step_limit = false;
};

// Arms a capture; false when one is already armed or running. `on_limit` runs (on the thread
// that ran the last counted forward: it must only hand the capture on) when num_steps stops it.
bool start(StepLimits limits, std::function<void(Capture)> on_limit);
// Ends the armed or running capture and returns what it recorded; nullopt when none was.
std::optional<Capture> stop();
// Whether a capture is armed or running.
bool active();

// Called by the forward worker before each forward: counts forwards, and starts or ends the
// capture at the step limits.
void note_forward();

// The capture as Chrome's JSON trace format ({"traceEvents": [...]}), timestamps in µs from the
// capture's first event. `pid` labels the process.
std::string to_chrome_json(const Capture& c, int64_t pid, std::string_view process_name);

// Writes the capture as a gzipped Chrome trace at `path` (through `path`.partial, renamed when
// complete, so a reader never sees half a file). Perfetto and chrome://tracing open it as is.
Status write_chrome_trace_gz(const Capture& c, const std::string& path, std::string_view process_name);

}  // namespace sgl::trace
