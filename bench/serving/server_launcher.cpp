#include "bench/serving/server_launcher.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <thread>

#include "bench/serving/run_requests.h"

namespace sgl::bench {

std::string find_server_binary() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto next_to = self.parent_path() / "sglcpp-server";
    if (::access(next_to.c_str(), X_OK) == 0) return next_to.string();
  }
  return "sglcpp-server";
}

Result<std::unique_ptr<ServerProcess>> ServerProcess::start(const std::string& binary,
                                                            const std::vector<std::string>& args) {
  std::string log_path = (std::filesystem::temp_directory_path() / "sglcpp-bench-server-XXXXXX").string();
  const int log_fd = ::mkstemp(log_path.data());
  if (log_fd < 0) return internal_error(fmt::format("cannot create the server log file: {}", std::strerror(errno)));
  std::vector<std::string> argv_s{binary};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    return internal_error(fmt::format("fork: {}", std::strerror(errno)));
  }
  if (pid == 0) {  // the child: only async-signal-safe calls until exec
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(1);  // the benchmark died before prctl took effect
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::close(log_fd);
    ::execvp(argv[0], argv.data());
    static const char msg[] = "bench_one_batch_server: cannot execute the server binary\n";
    (void)!::write(STDERR_FILENO, msg, sizeof(msg) - 1);
    ::_exit(127);
  }
  ::close(log_fd);
  return std::unique_ptr<ServerProcess>(new ServerProcess(pid, std::move(log_path)));
}

ServerProcess::~ServerProcess() {
  stop();
  std::error_code ec;
  std::filesystem::remove(log_path_, ec);
}

bool ServerProcess::exited(int* status) {
  if (pid_ < 0) return true;
  const pid_t r = ::waitpid(pid_, status, WNOHANG);
  if (r == pid_ || (r < 0 && errno == ECHILD)) {
    pid_ = -1;
    return true;
  }
  return false;
}

std::string ServerProcess::log_tail(int lines) const {
  std::ifstream f(log_path_);
  std::deque<std::string> last;
  for (std::string line; std::getline(f, line);) {
    last.push_back(std::move(line));
    if (static_cast<int>(last.size()) > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last) out += "  " + l + "\n";
  return out;
}

Status ServerProcess::wait_ready(const Endpoint& ep, double timeout_s) {
  const double deadline = now_seconds() + timeout_s;
  for (;;) {
    int status = 0;
    if (exited(&status)) {
      const std::string how = WIFEXITED(status)     ? fmt::format("exit status {}", WEXITSTATUS(status))
                              : WIFSIGNALED(status) ? fmt::format("signal {}", WTERMSIG(status))
                                                    : std::string("exited");
      return Error{ErrorCode::kUnavailable, fmt::format("the server exited before it served ({}); its last log lines:\n{}", how,
                                     log_tail(20))};
    }
    if (http_get(ep, "/health", 5).status == 200) return ok_status();
    if (now_seconds() > deadline)
      return Error{ErrorCode::kUnavailable, fmt::format("the server did not answer GET /health within {:.0f} s; its last log lines:\n{}",
                                     timeout_s, log_tail(20))};
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

void ServerProcess::stop(double grace_s) {
  int status = 0;
  if (exited(&status)) return;
  ::kill(pid_, SIGTERM);
  const double deadline = now_seconds() + grace_s;
  while (!exited(&status)) {
    if (now_seconds() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace sgl::bench
