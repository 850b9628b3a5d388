#include "server/profiler.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace sgl::server {

namespace fs = std::filesystem;

std::string default_profile_dir() {
  for (const char* var : {"SGLANG_TORCH_PROFILER_DIR", "SGLANG_JAX_PROFILER_DIR"})
    if (const char* v = std::getenv(var); v != nullptr && *v != '\0') return v;
  return "/tmp";
}

Profiler::Profiler(int tp_rank) : tp_rank_(tp_rank), writer_([this] { run(); }) {}

Profiler::~Profiler() {
  (void)trace::stop();  // a capture still armed is discarded with its profiler
  {
    std::lock_guard lk(q_->mu);
    q_->stopping = true;
  }
  q_->cv.notify_all();
  writer_.join();
}

Status Profiler::start(const ProfileOptions& opt) {
  if (trace::active()) return invalid_argument("Profiling is already in progress. Call /stop_profile first.");
  const std::string dir = opt.output_dir.empty() ? default_profile_dir() : opt.output_dir;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!fs::is_directory(dir) || ::access(dir.c_str(), W_OK) != 0)
    return invalid_argument(fmt::format("no permission to write the {}", dir));
  // SGLang's profile id: the start's unix time in seconds.
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string name =
      fmt::format("{}{}{:.6f}-TP-{}.trace.json.gz", opt.prefix, opt.prefix.empty() ? "" : "-", now, tp_rank_);
  const std::string path = (fs::path(dir) / name).string();
  {
    std::lock_guard lk(q_->mu);
    q_->path = path;
  }
  const bool started = trace::start({opt.start_step, opt.num_steps}, [q = q_, path](trace::Capture c) {
    // On the forward worker, when num_steps ran: hand the capture to the writer.
    q->push({std::move(c), path, nullptr});
  });
  if (!started) return invalid_argument("Profiling is already in progress. Call /stop_profile first.");
  spdlog::info("Profiling started ({}{}); the trace goes to {}",
               opt.num_steps ? fmt::format("{} forward steps", *opt.num_steps) : "until /stop_profile",
               opt.start_step ? fmt::format(" from step {}", *opt.start_step) : "", path);
  return ok_status();
}

Status Profiler::stop(std::function<void(Result<std::string>)> done) {
  std::optional<trace::Capture> c = trace::stop();
  if (!c) return invalid_argument("Profiling is not in progress. Call /start_profile first.");
  std::string path;
  {
    std::lock_guard lk(q_->mu);
    path = q_->path;
  }
  q_->push({std::move(*c), std::move(path), std::move(done)});
  return ok_status();
}

std::string Profiler::last_trace() const {
  std::lock_guard lk(q_->mu);
  return q_->last;
}

void Profiler::Queue::push(Job job) {
  {
    std::lock_guard lk(mu);
    jobs.push_back(std::move(job));
  }
  cv.notify_all();
}

void Profiler::run() {
  Queue& q = *q_;
  std::unique_lock lk(q.mu);
  for (;;) {
    q.cv.wait(lk, [&] { return q.stopping || !q.jobs.empty(); });
    if (q.jobs.empty()) return;  // stopping, nothing left to write
    Job job = std::move(q.jobs.front());
    q.jobs.pop_front();
    lk.unlock();
    Result<std::string> written = write(job);
    if (written.ok())
      spdlog::info(
          "Profiling done: {} forward steps, {} events{}. Traces are saved to: {}", job.capture.forwards,
          job.capture.events.size(),
          job.capture.dropped ? fmt::format(" ({} dropped beyond the bound)", job.capture.dropped) : "",
          *written);
    else
      spdlog::error("Profiling: writing the trace failed: {}", written.error().message);
    lk.lock();
    if (written.ok()) q.last = *written;
    if (job.done) {
      lk.unlock();
      job.done(std::move(written));
      lk.lock();
    }
  }
}

Result<std::string> Profiler::write(const Job& job) const {
  SGL_TRY(trace::write_chrome_trace_gz(job.capture, job.path, "sglcpp-server"));
  return job.path;
}

}  // namespace sgl::server
