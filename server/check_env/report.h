// What --check-env prints: titled sections of "key: value" lines (like SGLang's check_env), then
// the findings — fatal ones (the server would refuse to start or be killed) and notes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sgl::server::check_env {

struct Entry {
  std::string key;
  std::string value;
};

struct Section {
  std::string title;
  std::vector<Entry> entries;
  void add(std::string key, std::string value) { entries.push_back({std::move(key), std::move(value)}); }
};

enum class Severity { kNote, kFatal };

struct Finding {
  Severity severity = Severity::kNote;
  std::string message;
};

inline Finding fatal(std::string message) { return {Severity::kFatal, std::move(message)}; }
inline Finding note(std::string message) { return {Severity::kNote, std::move(message)}; }

struct Report {
  std::vector<Section> sections;
  std::vector<Finding> findings;
  bool any_fatal() const;
};

// Aligned text: every value starts in the same column, findings last, then a one-line verdict.
std::string render_text(const Report& report);
// One JSON object: {"<section>": {"<key>": "<value>", ...}, ..., "findings": [...], "ok": bool}.
std::string render_json(const Report& report);

// "21.9 GiB" (MiB, KiB, B below): the units free -h and nvidia-smi print.
std::string format_bytes(int64_t bytes);

}  // namespace sgl::server::check_env
