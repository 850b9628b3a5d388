#include "net/async_notifier.h"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <mutex>

namespace sgl::net {

namespace asio = boost::asio;

// WHY a timer: the waiter parks on a steady_timer (a local of its own frame) that never expires;
// a notify() from another thread posts the cancel() to the waiter's executor, so the timer is
// only touched there, and no timer outlives the io_context it belongs to.
struct AsyncNotifier::State {
  std::mutex mu;
  bool pending = false;                  // a notify() not yet consumed by wait()
  bool wake_posted = false;              // a cancel is already on its way
  asio::steady_timer* parked = nullptr;  // the waiter's timer while it is parked
  asio::any_io_executor executor;        // the waiter's executor while it is parked
};

AsyncNotifier::AsyncNotifier() : state_(std::make_shared<State>()) {}
AsyncNotifier::~AsyncNotifier() = default;

void AsyncNotifier::notify() {
  std::lock_guard lock(state_->mu);
  state_->pending = true;
  if (state_->parked && !state_->wake_posted) {
    state_->wake_posted = true;
    asio::post(state_->executor, [s = state_] {
      std::lock_guard lock(s->mu);
      if (s->parked) s->parked->cancel();
    });
  }
}

asio::awaitable<void> AsyncNotifier::wait() {
  auto ex = co_await asio::this_coro::executor;
  auto s = state_;
  asio::steady_timer timer(ex, asio::steady_timer::time_point::max());
  // Unparks also when this frame is destroyed while parked (its io_context stopped), so a late
  // notify() from the scheduler thread never posts to a dead executor or touches a dead timer.
  struct ParkedGuard {
    State& s;
    ~ParkedGuard() {
      std::lock_guard lock(s.mu);
      s.parked = nullptr;
      s.executor = {};
    }
  } guard{*s};
  for (;;) {
    {
      std::lock_guard lock(s->mu);
      if (s->pending) {
        s->pending = false;
        co_return;
      }
      s->parked = &timer;
      s->executor = ex;
      s->wake_posted = false;
    }
    // The posted cancel runs on `ex`, which cannot run it before this coroutine suspends below.
    timer.expires_at(asio::steady_timer::time_point::max());
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    std::lock_guard lock(s->mu);
    s->parked = nullptr;
  }
}

}  // namespace sgl::net
