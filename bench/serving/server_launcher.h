// bench_one_batch_server without --base-url: like SGLang-JAX's, it launches the server itself with
// the launch flags of its command line, waits until it serves, and stops it after the run. The
// server is sglcpp-server next to the bench binary (else on PATH), its output kept in a log file
// whose last lines explain a failed start.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "bench/serving/transport.h"

namespace sgl::bench {

// sglcpp-server in the directory of the running binary, else the bare name (looked up on PATH).
std::string find_server_binary();

class ServerProcess {
 public:
  // Starts `binary args...` in the background, stdout and stderr into a fresh log file. The child
  // gets SIGTERM should this process die first, so no server outlives its benchmark.
  static Result<std::unique_ptr<ServerProcess>> start(const std::string& binary,
                                                      const std::vector<std::string>& args);
  ~ServerProcess();  // stop(), and the log file removed
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Polls GET /health until it answers 200. Error when the process exits first or `timeout_s`
  // passes; the message quotes the log's last lines.
  Status wait_ready(const Endpoint& ep, double timeout_s);
  // SIGTERM, then SIGKILL after `grace_s`; waits for the exit. Idempotent.
  void stop(double grace_s = 60);
  std::string log_tail(int lines) const;
  pid_t pid() const { return pid_; }

 private:
  ServerProcess(pid_t pid, std::string log_path) : pid_(pid), log_path_(std::move(log_path)) {}
  bool exited(int* status);  // reaps the child when it has exited

  pid_t pid_ = -1;
  std::string log_path_;
};

}  // namespace sgl::bench
