// Wakes one coroutine from any thread. The scheduler thread calls notify(); a handler coroutine
// co_awaits wait() without blocking its io thread. Notifications do not queue up: several
// notify() calls before a wait() wake it once (callers re-check their own state, see AsyncChannel).
//
// WHY not a timer or a post per wake-up: the scheduler wakes every streaming request once per
// step, hundreds at a time. Wake-ups are gathered per execution context instead: the first
// notify() of a burst posts one drain to that context, which resumes every parked waiter in turn
// (inline where the waiter's executor allows), so an io thread pays one queue operation and one
// wake-up per scheduler step rather than a timer and a queued handler per request.
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
  // io_context (every handler on the HTTP server qualifies). A waiter still parked when its
  // execution context shuts down is destroyed with it, as a pending asynchronous operation is.
  boost::asio::awaitable<void> wait();

  struct State;

 private:
  std::shared_ptr<State> state_;  // shared with the context's wake list while a wake-up is due
};

}  // namespace sgl::net
