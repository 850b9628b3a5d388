// SIGINT/SIGTERM for sglcpp-server (`systemctl stop` sends SIGTERM). Both are blocked in every
// thread and taken by one waiter thread. Before serve() — while loading a checkpoint, which can
// take minutes, and warming up — a stop signal exits the process at once with status 0: nothing
// is in flight, and waiting for the load would outlast a supervisor's stop timeout. From serve()
// on, wait() hands the signal to main, which shuts down gracefully.
#pragma once

#include <memory>

namespace sgl::server {

class StopSignals {
 public:
  // Call before any other thread starts, so that every thread inherits the blocked mask.
  StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // From now on a stop signal is handed to wait() instead of exiting.
  void serve();
  // Blocks until SIGINT or SIGTERM arrives (after serve()); returns it.
  int wait();

  struct State;

 private:
  std::shared_ptr<State> state_;  // shared with the detached waiter thread, which may outlive main
};

}  // namespace sgl::server
