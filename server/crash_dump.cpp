#include "server/crash_dump.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>

namespace sgl::server {
namespace {

double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// SGLang-JAX files the dump under $HOSTNAME (one folder can serve every node of a deployment).
std::string host_name() {
  if (const char* h = std::getenv("HOSTNAME"); h && *h) return h;
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) == 0 && buf[0]) return buf;
  return "localhost";
}

nlohmann::ordered_json entry_json(const std::string& body, const nlohmann::ordered_json& out, double created,
                                  double finished) {
  auto obj = nlohmann::ordered_json::parse(body, nullptr, false);
  if (obj.is_discarded()) obj = body;  // not JSON: kept as the text it was
  return {{"obj", std::move(obj)}, {"out", out}, {"created_time", created}, {"finished_time", finished}};
}

}  // namespace

void CrashDumpRecorder::set_folder(std::string folder) {
  std::lock_guard lk(mu_);
  folder_ = std::move(folder);
  if (folder_.empty()) {
    finished_.clear();
    open_.clear();
    finished_bytes_ = 0;
  }
}

bool CrashDumpRecorder::enabled() const {
  std::lock_guard lk(mu_);
  return !folder_.empty();
}

uint64_t CrashDumpRecorder::received(std::string_view body) {
  std::lock_guard lk(mu_);
  if (folder_.empty()) return 0;
  const uint64_t t = next_ticket_++;
  open_[t] = Entry{std::string(body), nlohmann::ordered_json::object(), now_ ? now_() : wall_seconds(), 0};
  return t;
}

void CrashDumpRecorder::finished(uint64_t ticket, nlohmann::ordered_json out) {
  if (ticket == 0) return;
  std::lock_guard lk(mu_);
  auto it = open_.find(ticket);
  if (it == open_.end()) return;  // recording was switched off meanwhile
  Entry e = std::move(it->second);
  open_.erase(it);
  e.out = std::move(out);
  e.finished = now_ ? now_() : wall_seconds();
  finished_bytes_ += e.body.size();
  finished_.push_back(std::move(e));
  prune(finished_.back().finished);
}

void CrashDumpRecorder::prune(double now) {
  while (!finished_.empty() &&
         (now - finished_.front().finished >= kWindowSeconds || finished_bytes_ > kMaxBytes)) {
    finished_bytes_ -= finished_.front().body.size();
    finished_.pop_front();
  }
}

Result<CrashDumpFile> CrashDumpRecorder::dump(const nlohmann::ordered_json& server_args,
                                              std::string_view reason) {
  std::lock_guard lk(mu_);
  if (folder_.empty() || dumped_) return CrashDumpFile{};
  dumped_ = true;
  const double now = now_ ? now_() : wall_seconds();
  prune(now);
  nlohmann::ordered_json requests = nlohmann::ordered_json::array();
  for (const auto& e : finished_) requests.push_back(entry_json(e.body, e.out, e.created, e.finished));
  const size_t num_finished = requests.size();
  // Still running: SGLang-JAX records them with an empty output and the dump's time.
  for (const auto& [ticket, e] : open_) requests.push_back(entry_json(e.body, e.out, e.created, now));
  if (requests.empty()) return CrashDumpFile{};

  const std::time_t secs = static_cast<std::time_t>(now);
  std::tm local{};
  localtime_r(&secs, &local);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d_%H-%M-%S", &local);
  const std::filesystem::path dir = std::filesystem::path(folder_) / host_name();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return internal_error(fmt::format("crash dump: cannot create {}: {}", dir.string(), ec.message()));
  const std::filesystem::path file = dir / fmt::format("crash_dump_{}.json", stamp);
  nlohmann::ordered_json doc = {
      {"server_args", server_args}, {"reason", reason}, {"requests", std::move(requests)}};
  std::ofstream f(file);
  f << doc.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
  f.close();
  if (!f) return internal_error(fmt::format("crash dump: cannot write {}", file.string()));
  return CrashDumpFile{file.string(), num_finished, doc["requests"].size() - num_finished};
}

void write_crash_dump(CrashDumpRecorder& recorder, const nlohmann::ordered_json& server_args,
                      std::string_view reason) {
  if (!recorder.enabled()) return;
  spdlog::error("Dumping requests before crash ({}).", reason);
  auto file = recorder.dump(server_args, reason);
  if (!file.ok())
    spdlog::error("{}", file.error().message);
  else if (!file->path.empty())
    spdlog::error("Dumped {} finished and {} unfinished requests before crash to {}", file->finished,
                  file->unfinished, file->path);
}

}  // namespace sgl::server
