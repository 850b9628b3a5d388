#include "server/check_env/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace sgl::server::check_env {

bool Report::any_fatal() const {
  return std::any_of(findings.begin(), findings.end(),
                     [](const Finding& f) { return f.severity == Severity::kFatal; });
}

std::string render_text(const Report& report) {
  size_t width = 0;
  for (const auto& s : report.sections)
    for (const auto& e : s.entries) width = std::max(width, e.key.size() + 1);
  std::string out;
  for (const auto& s : report.sections) {
    out += fmt::format("[{}]\n", s.title);
    for (const auto& e : s.entries) out += fmt::format("{:<{}} {}\n", e.key + ":", width, e.value);
    out += "\n";
  }
  int fatal_count = 0;
  for (const auto& f : report.findings) {
    const bool is_fatal = f.severity == Severity::kFatal;
    fatal_count += is_fatal ? 1 : 0;
    out += fmt::format("{} {}\n", is_fatal ? "FATAL:" : "note: ", f.message);
  }
  if (fatal_count > 0)
    out += fmt::format("\n{} setting(s) above would fail on this machine (exit status 1).\n", fatal_count);
  else
    out += fmt::format("{}Nothing given would fail on this machine.\n", report.findings.empty() ? "" : "\n");
  return out;
}

std::string render_json(const Report& report) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& s : report.sections) {
    nlohmann::ordered_json sec = nlohmann::ordered_json::object();
    for (const auto& e : s.entries) sec[e.key] = e.value;
    j[s.title] = std::move(sec);
  }
  nlohmann::ordered_json findings = nlohmann::ordered_json::array();
  for (const auto& f : report.findings)
    findings.push_back({{"fatal", f.severity == Severity::kFatal}, {"message", f.message}});
  j["findings"] = std::move(findings);
  j["ok"] = !report.any_fatal();
  return j.dump(2) + "\n";
}

std::string format_bytes(int64_t bytes) {
  constexpr double kKiB = 1024.0, kMiB = kKiB * 1024.0, kGiB = kMiB * 1024.0;
  if (bytes >= int64_t(kGiB)) return fmt::format("{:.1f} GiB", double(bytes) / kGiB);
  if (bytes >= int64_t(kMiB)) return fmt::format("{:.1f} MiB", double(bytes) / kMiB);
  if (bytes >= int64_t(kKiB)) return fmt::format("{:.1f} KiB", double(bytes) / kKiB);
  return fmt::format("{} B", bytes);
}

}  // namespace sgl::server::check_env
