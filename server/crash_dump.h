// --crash-dump-folder (SGLang-JAX's tokenizer manager): the requests that finished in the last five
// minutes and those still running, written out when the server goes down — a hung step (the
// watchdog), or a SIGTERM drain, as SGLang-JAX dumps on its graceful exit — so that an operator can
// see and replay what the server was doing. SGLang writes a pickle of its Python objects; the same
// content is JSON here: {"server_args", "reason", "requests": [{"obj", "out", "created_time",
// "finished_time"}]} in <folder>/<HOSTNAME>/crash_dump_<YYYY-mm-dd_HH-MM-SS>.json.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/result.h"

namespace sgl::server {

struct CrashDumpFile {
  std::string path;  // "" when nothing was written (recording off, nothing kept, already dumped)
  size_t finished = 0, unfinished = 0;
};

class CrashDumpRecorder {
 public:
  // Finished requests are kept this long (SGLang-JAX: 300 s), and within this many bytes of
  // request bodies, so that recording can never be what exhausts memory.
  static constexpr double kWindowSeconds = 300.0;
  static constexpr size_t kMaxBytes = size_t{64} << 20;

  // "" turns recording off (and drops what was kept). --crash-dump-folder, /configure_logging.
  void set_folder(std::string folder);
  bool enabled() const;

  // A request's body as received; the ticket (0 when recording is off) goes to finished().
  uint64_t received(std::string_view body);
  // Its outputs (SGLang's `out`: one /generate output, or a list for a batch).
  void finished(uint64_t ticket, nlohmann::ordered_json out);

  // Writes the dump (once per process: SGLang's crash_dump_performed); an error when the file
  // cannot be written.
  Result<CrashDumpFile> dump(const nlohmann::ordered_json& server_args, std::string_view reason);

  // For tests: a clock in seconds since the epoch.
  void set_clock_for_test(double (*now)()) { now_ = now; }

 private:
  struct Entry {
    std::string body;
    nlohmann::ordered_json out;
    double created = 0, finished = 0;
  };
  void prune(double now);  // under mu_

  mutable std::mutex mu_;
  std::string folder_;
  std::deque<Entry> finished_;
  std::unordered_map<uint64_t, Entry> open_;
  size_t finished_bytes_ = 0;
  uint64_t next_ticket_ = 1;
  bool dumped_ = false;
  double (*now_)() = nullptr;
};

// dump() with SGLang-JAX's log lines around it (what was written where, or why not).
void write_crash_dump(CrashDumpRecorder& recorder, const nlohmann::ordered_json& server_args,
                      std::string_view reason);

}  // namespace sgl::server
