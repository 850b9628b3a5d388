// Wakes one coroutine from any thread. The scheduler thread calls notify(); a handler coroutine
// co_awaits wait() without blocking its io thread. Notifications do not queue up: several
// notify() calls before a wait() wake it once (callers re-check their own state, see AsyncChannel).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>

namespace sgl::net {

class AsyncNotifier {
 public:
  AsyncNotifier();
  ~AsyncNotifier();
  AsyncNotifier(const AsyncNotifier&) = delete;
  AsyncNotifier& operator=(const AsyncNotifier&) = delete;

  // Any thread. Wakes the waiter, or makes the next wait() return at once.
  void notify();
  // One waiter at a time, from a coroutine whose executor is a strand or a single-threaded
  // io_context (every handler on the HTTP server qualifies).
  boost::asio::awaitable<void> wait();

 private:
  struct State;
  std::shared_ptr<State> state_;  // shared with wake-ups posted to the waiter's executor
};

}  // namespace sgl::net
