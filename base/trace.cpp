#include "base/trace.h"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>
#include <utility>

#include "base/json_escape.h"

namespace sgl::trace {

namespace detail {
std::atomic<bool> g_recording{false};
}  // namespace detail

namespace {

// A bound on one capture's memory (~100 bytes an event): a forgotten capture of a busy server
// stops growing instead of taking the machine; what is dropped is counted in the trace.
constexpr size_t kMaxEvents = 2'000'000;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
int64_t ns_of(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

struct State {
  std::mutex mu;
  bool armed = false;               // a capture exists (waiting for its start step, or recording)
  std::optional<int64_t> begin_at;  // not yet recording: starts at this forward
  std::optional<int64_t> end_at;    // stops before this forward
  int64_t forwards_total = 0;       // since the process started
  int64_t forwards_recorded = 0;
  std::vector<Event> events;
  int64_t dropped = 0;
  std::function<void(Capture)> on_limit;
  std::vector<std::pair<uint32_t, std::string>> names;  // every named thread, across captures
};

State& state() {
  static State s;
  return s;
}

std::atomic<uint32_t> g_next_tid{1};
thread_local uint32_t t_tid = 0;

uint32_t my_tid() {
  if (t_tid == 0) t_tid = g_next_tid.fetch_add(1);
  return t_tid;
}

void record(Event&& e) {
  e.tid = my_tid();
  State& s = state();
  std::lock_guard lk(s.mu);
  if (!recording()) return;  // stopped since the caller looked
  if (s.events.size() >= kMaxEvents) {
    ++s.dropped;
    return;
  }
  s.events.push_back(std::move(e));
}

// Under s.mu: ends the capture and hands over what it holds.
Capture take_locked(State& s) {
  detail::g_recording.store(false, std::memory_order_relaxed);
  s.armed = false;
  s.begin_at.reset();
  s.end_at.reset();
  Capture c;
  c.events = std::move(s.events);
  s.events = {};
  c.thread_names = s.names;
  c.forwards = s.forwards_recorded;
  c.dropped = s.dropped;
  return c;
}

void append_event_json(std::string& out, const Event& e, int64_t origin_ns, int64_t pid) {
  out += "{\"name\":\"";
  append_json_escaped(out, e.name);
  out += "\",\"cat\":\"";
  append_json_escaped(out, e.cat);
  fmt::format_to(std::back_inserter(out), "\",\"ph\":\"{}\",\"ts\":{:.3f},\"pid\":{},\"tid\":{}", e.ph,
                 static_cast<double>(e.ts_ns - origin_ns) / 1e3, pid, e.tid);
  if (e.ph == 'X')
    fmt::format_to(std::back_inserter(out), ",\"dur\":{:.3f}", static_cast<double>(e.dur_ns) / 1e3);
  if (e.ph == 'b' || e.ph == 'e') fmt::format_to(std::back_inserter(out), ",\"id\":\"0x{:x}\"", e.id);
  if (e.ph == 'i') out += ",\"s\":\"t\"";
  if (!e.args.empty()) {
    out += ",\"args\":{";
    out += e.args;
    out += '}';
  }
  out += '}';
}

}  // namespace

void set_thread_name(std::string_view name) {
  const uint32_t tid = my_tid();
  State& s = state();
  std::lock_guard lk(s.mu);
  for (auto& [t, n] : s.names) {
    if (t == tid) {
      n = name;
      return;
    }
  }
  s.names.emplace_back(tid, std::string(name));
}

void Args::key(std::string_view k) {
  if (!s_.empty()) s_ += ',';
  s_ += '"';
  append_json_escaped(s_, k);
  s_ += "\":";
}
Args& Args::add(std::string_view k, int64_t v) {
  key(k);
  fmt::format_to(std::back_inserter(s_), "{}", v);
  return *this;
}
Args& Args::add(std::string_view k, double v) {
  key(k);
  fmt::format_to(std::back_inserter(s_), "{:.6g}", v);
  return *this;
}
Args& Args::add(std::string_view k, std::string_view v) {
  key(k);
  s_ += '"';
  append_json_escaped(s_, v);
  s_ += '"';
  return *this;
}

Span::Span(const char* cat, std::string_view name) : cat_(cat) {
  if (!recording()) return;
  name_ = name;
  start_ns_ = now_ns();
}

Span::~Span() {
  if (start_ns_ == 0 || !recording()) return;
  Event e;
  e.cat = cat_;
  e.name = std::move(name_);
  e.ts_ns = start_ns_;
  e.dur_ns = now_ns() - start_ns_;
  e.args = std::move(args_);
  record(std::move(e));
}

namespace {
void point_event(char ph, const char* cat, std::string_view name, uint64_t id, Args& args) {
  if (!recording()) return;
  Event e;
  e.ph = ph;
  e.cat = cat;
  e.name = name;
  e.ts_ns = now_ns();
  e.id = id;
  e.args = args.take();
  record(std::move(e));
}
}  // namespace

void async_begin(const char* cat, std::string_view name, uint64_t id, Args args) {
  point_event('b', cat, name, id, args);
}
void async_end(const char* cat, std::string_view name, uint64_t id, Args args) {
  point_event('e', cat, name, id, args);
}
void instant(const char* cat, std::string_view name, Args args) { point_event('i', cat, name, 0, args); }

void complete(const char* cat, std::string_view name, std::chrono::steady_clock::time_point start,
              std::chrono::steady_clock::time_point end, Args args) {
  if (!recording()) return;
  Event e;
  e.cat = cat;
  e.name = name;
  e.ts_ns = ns_of(start);
  e.dur_ns = std::max<int64_t>(0, ns_of(end) - ns_of(start));
  e.args = args.take();
  record(std::move(e));
}

bool start(StepLimits limits, std::function<void(Capture)> on_limit) {
  State& s = state();
  std::lock_guard lk(s.mu);
  if (s.armed) return false;
  s.armed = true;
  s.events.clear();
  s.dropped = 0;
  s.forwards_recorded = 0;
  s.on_limit = std::move(on_limit);
  if (limits.start_step) {
    // SGLang's scheduler: never before the next forward.
    const int64_t begin = std::max(*limits.start_step, s.forwards_total + 1);
    s.begin_at = begin;
    if (limits.num_steps) s.end_at = begin + *limits.num_steps;
  } else {
    s.begin_at.reset();
    if (limits.num_steps) s.end_at = s.forwards_total + 1 + *limits.num_steps;
    detail::g_recording.store(true, std::memory_order_relaxed);
  }
  return true;
}

std::optional<Capture> stop() {
  State& s = state();
  std::lock_guard lk(s.mu);
  if (!s.armed) return std::nullopt;
  s.on_limit = nullptr;
  return take_locked(s);
}

bool active() {
  State& s = state();
  std::lock_guard lk(s.mu);
  return s.armed;
}

void note_forward() {
  State& s = state();
  std::function<void(Capture)> hand_over;
  Capture c;
  {
    std::lock_guard lk(s.mu);
    ++s.forwards_total;
    if (!s.armed) return;
    if (s.begin_at && s.forwards_total >= *s.begin_at) {
      s.begin_at.reset();
      detail::g_recording.store(true, std::memory_order_relaxed);
    }
    if (!recording()) return;
    if (s.end_at && s.forwards_total >= *s.end_at) {
      hand_over = std::move(s.on_limit);
      s.on_limit = nullptr;
      c = take_locked(s);
      c.stopped_by_step_limit = true;
    } else {
      ++s.forwards_recorded;
    }
  }
  if (hand_over) hand_over(std::move(c));
}

std::string to_chrome_json(const Capture& c, int64_t pid, std::string_view process_name) {
  int64_t origin = 0;
  bool first = true;
  for (const Event& e : c.events) {
    if (first || e.ts_ns < origin) origin = e.ts_ns;
    first = false;
  }
  std::string out;
  out.reserve(c.events.size() * 160 + 1024);
  out += "{\"traceEvents\":[";
  fmt::format_to(std::back_inserter(out),
                 "{{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":{},\"args\":{{\"name\":\"", pid);
  append_json_escaped(out, process_name);
  out += "\"}}";
  for (const auto& [tid, name] : c.thread_names) {
    fmt::format_to(std::back_inserter(out),
                   ",{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":{},\"tid\":{},\"args\":{{\"name\":\"",
                   pid, tid);
    append_json_escaped(out, name);
    out += "\"}}";
  }
  for (const Event& e : c.events) {
    out += ',';
    append_event_json(out, e, origin, pid);
  }
  fmt::format_to(std::back_inserter(out),
                 "],\"displayTimeUnit\":\"ms\",\"otherData\":{{\"forwards\":{},\"dropped_events\":{},"
                 "\"stopped_by_step_limit\":{}}}}}",
                 c.forwards, c.dropped, c.stopped_by_step_limit);
  return out;
}

}  // namespace sgl::trace
