#include "sched/precision_tracer.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <iterator>
#include <system_error>

#include "base/json_escape.h"

namespace sgl::sched {
namespace {

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// One statistic as SGLang-JAX's _compute_stats writes it.
void append_stats_json(std::string& out, const engine::TensorStats& s, bool prefill) {
  if (!out.empty()) out += ',';
  const bool whole = s.layer < 0;
  const std::string stage = whole ? std::string(s.module) : fmt::format("{}_layer_id_{}", s.module, s.layer);
  out += "{\"framework\":\"sglcpp\",\"name\":\"";
  append_json_escaped(out, s.name);
  out += "\",\"stage\":\"";
  append_json_escaped(out, stage);
  fmt::format_to(std::back_inserter(out),
                 "\",\"shape\":[{},{}],\"dtype\":\"float32\",\"min\":{:.9g},\"max\":{:.9g},\"mean\":{:.9g},"
                 "\"std\":{:.9g},\"has_nan\":{},\"has_inf\":{},",
                 s.rows, s.cols, s.min, s.max, s.mean, s.std, s.has_nan, s.has_inf);
  if (whole)
    out += "\"layer_id\":\"all\",\"module_type\":\"transformer\"";
  else
    fmt::format_to(std::back_inserter(out), "\"layer_id\":{},\"module_type\":\"{}\"", s.layer, s.module);
  if (prefill && s.rows > 1) fmt::format_to(std::back_inserter(out), ",\"sequence_length\":{}", s.rows);
  out += '}';
}

}  // namespace

PrecisionTracer::~PrecisionTracer() {
  if (file_ != nullptr) std::fclose(file_);
}

Status PrecisionTracer::start(std::optional<int64_t> req_num, const std::string& output_file) {
  std::lock_guard lk(mu_);
  if (active_) return invalid_argument("Precision tracing is already running. Call /stop_trace first.");
  if (req_num && *req_num <= 0) return invalid_argument("req_num: must be > 0");
  std::error_code ec;
  const auto parent = std::filesystem::absolute(output_file).parent_path();
  std::filesystem::create_directories(parent, ec);
  std::FILE* f = std::fopen(output_file.c_str(), "w");
  if (f == nullptr)
    return invalid_argument(fmt::format("Failed to start tracing: cannot create {}", output_file));
  file_ = f;
  path_ = output_file;
  active_ = true;
  max_requests_ = req_num;
  counter_ = completed_ = 0;
  records_.clear();
  wants_.store(true, std::memory_order_relaxed);
  return ok_status();
}

Result<std::string> PrecisionTracer::stop() {
  std::lock_guard lk(mu_);
  if (!active_) return invalid_argument("Precision tracing is not running. Call /start_trace first.");
  for (auto& [rid, r] : records_) write_locked(rid, r, /*completed=*/false);
  records_.clear();
  close_locked();
  return path_;
}

PrecisionTracer::Snapshot PrecisionTracer::status() const {
  std::lock_guard lk(mu_);
  Snapshot s;
  s.active = active_;
  s.request_counter = counter_;
  s.completed = completed_;
  s.max_requests = max_requests_;
  s.output_file = path_;
  s.active_request_traces = static_cast<int64_t>(records_.size());
  return s;
}

void PrecisionTracer::on_step(bool prefill, const std::vector<Segment>& segments,
                              const std::vector<engine::TensorStats>& stats) {
  std::lock_guard lk(mu_);
  if (!active_) return;
  ++steps_;
  std::vector<Group*> groups(segments.size(), nullptr);
  for (size_t i = 0; i < segments.size(); ++i) {
    const Segment& seg = segments[i];
    auto it = records_.find(*seg.rid);
    if (it == records_.end()) {
      // A request is traced from its prefill, while the trace wants more (SGLang-JAX traces
      // the requests that extend).
      if (!prefill || (max_requests_ && counter_ >= *max_requests_)) continue;
      Record r;
      r.index = counter_++;
      r.bid = steps_;
      // FNV-1a of the prompt's ids: which prompt a record is (SGLang-JAX: an md5 prefix of them).
      uint64_t h = 1469598103934665603ull;
      for (int64_t t = 0; t < seg.prompt_len && t < static_cast<int64_t>(seg.tokens->size()); ++t) {
        h ^= static_cast<uint32_t>((*seg.tokens)[static_cast<size_t>(t)]);
        h *= 1099511628211ull;
      }
      r.content_hash = h;
      r.start_time = unix_now();
      it = records_.emplace(*seg.rid, std::move(r)).first;
    }
    Group g;
    g.token_idx = seg.prefix_len;
    g.prefill = prefill;
    it->second.groups.push_back(std::move(g));
    groups[i] = &it->second.groups.back();
  }
  for (const engine::TensorStats& s : stats) {
    const auto i = static_cast<size_t>(s.segment);
    if (i < groups.size() && groups[i] != nullptr) append_stats_json(groups[i]->records, s, prefill);
  }
  wants_.store(!max_requests_ || counter_ < *max_requests_ || !records_.empty(), std::memory_order_relaxed);
}

void PrecisionTracer::on_finish(const std::string& rid) {
  std::lock_guard lk(mu_);
  auto it = records_.find(rid);
  if (it == records_.end()) return;
  write_locked(rid, it->second, /*completed=*/true);
  records_.erase(it);
  ++completed_;
  if (max_requests_ && completed_ >= *max_requests_) close_locked();
}

void PrecisionTracer::write_locked(const std::string& rid, Record& r, bool completed) {
  if (file_ == nullptr) return;
  const double end = unix_now();
  std::string line = fmt::format("{{\"bid\":{},\"request_id\":\"", r.bid);
  append_json_escaped(line, rid);
  fmt::format_to(std::back_inserter(line),
                 "\",\"request_idx\":{},\"start_time\":{:.6f},\"end_time\":{:.6f},\"duration\":{:.6f},"
                 "\"precision_records\":{{",
                 r.index, r.start_time, end, end - r.start_time);
  for (const bool prefill : {true, false}) {
    line += prefill ? "\"prefill\":[" : ",\"decode\":[";
    bool first = true;
    for (const Group& g : r.groups) {
      if (g.prefill != prefill) continue;
      fmt::format_to(std::back_inserter(line), "{}{{\"token_idx\":{},\"category\":\"{}\",\"records\":[{}]}}",
                     first ? "" : ",", g.token_idx, prefill ? "prefill" : "decode", g.records);
      first = false;
    }
    line += ']';
  }
  fmt::format_to(std::back_inserter(line),
                 "}},\"status\":\"{}\",\"content_hash\":\"{:016x}\",\"process_id\":{}}}\n",
                 completed ? "completed" : "active", r.content_hash, static_cast<int64_t>(::getpid()));
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
}

void PrecisionTracer::close_locked() {
  if (file_ != nullptr) std::fclose(file_);
  file_ = nullptr;
  active_ = false;
  wants_.store(false, std::memory_order_relaxed);
}

}  // namespace sgl::sched
