#include "server/stop_signals.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace sgl::server {

struct StopSignals::State {
  sigset_t set;
  std::mutex mu;
  std::condition_variable cv;
  bool serving = false;
  int signal = 0;
};

StopSignals::StopSignals() : state_(std::make_shared<State>()) {
  sigemptyset(&state_->set);
  sigaddset(&state_->set, SIGINT);
  sigaddset(&state_->set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &state_->set, nullptr);
  // Detached: it stays blocked in sigwait until a signal comes, even while main returns.
  std::thread([s = state_] {
    int sig = 0;
    sigwait(&s->set, &sig);
    std::lock_guard lock(s->mu);
    if (!s->serving) {
      spdlog::info("Received {} while starting up: exiting", sig == SIGINT ? "SIGINT" : "SIGTERM");
      spdlog::default_logger()->flush();
      std::_Exit(0);  // no destructors: other threads are mid-load
    }
    s->signal = sig;
    s->cv.notify_all();
  }).detach();
}

void StopSignals::serve() {
  std::lock_guard lock(state_->mu);
  state_->serving = true;
}

int StopSignals::wait() {
  std::unique_lock lock(state_->mu);
  state_->cv.wait(lock, [&] { return state_->signal != 0; });
  return state_->signal;
}

}  // namespace sgl::server
