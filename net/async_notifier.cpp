#include "net/async_notifier.h"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace sgl::net {

namespace asio = boost::asio;
// WHY swap() and never `=` on a Waiter: Boost 1.81's move assignment copies its argument as an
// lvalue into the converting constructor, which wraps it in itself without end.
using Waiter = asio::any_completion_handler<void()>;

namespace {

// One per execution context: the notifiers whose waiters are due, and every notifier that has
// parked a waiter here (so that shutdown can destroy parked coroutines). Lock order: a notifier's
// State::mu before WakeList::mu.
struct WakeList {
  std::mutex mu;
  bool dead = false;          // the context shut down: nothing is posted to it any more
  bool drain_posted = false;  // a drain() is queued on the context
  std::vector<std::shared_ptr<AsyncNotifier::State>> ready;
  std::unordered_map<const AsyncNotifier::State*, std::weak_ptr<AsyncNotifier::State>> bound;

  void drain();
};

class WakeService : public asio::execution_context::service {
 public:
  using key_type = WakeService;
  static inline asio::execution_context::id id;

  explicit WakeService(asio::execution_context& ctx)
      : asio::execution_context::service(ctx), list(std::make_shared<WakeList>()) {}
  void shutdown() override;

  const std::shared_ptr<WakeList> list;
};

}  // namespace

struct AsyncNotifier::State {
  std::mutex mu;
  bool pending = false;        // a notify() not yet consumed by a wait
  bool queued = false;         // on its WakeList's ready list
  Waiter waiter;               // the parked coroutine, if any
  bool resume_inline = false;  // the waiter's executor is a plain io_context executor
  // The waiter's executor while it is parked: where the drain is posted. It tracks outstanding
  // work, so that a parked waiter keeps its io_context running as a pending operation does.
  asio::any_io_executor executor;
  std::shared_ptr<WakeList> list;  // the context the waiter parks on (bound at the first wait)

  ~State() {
    if (!list) return;
    std::lock_guard lock(list->mu);
    list->bound.erase(this);
  }
};

namespace {

// Runs on the context: resumes every due waiter. A waiter on a plain io_context executor is
// resumed right here (this is its thread); one on a strand goes through its strand.
void WakeList::drain() {
  std::vector<std::shared_ptr<AsyncNotifier::State>> batch;
  {
    std::lock_guard lock(mu);
    batch.swap(ready);
    drain_posted = false;
  }
  for (auto& s : batch) {
    Waiter waiter;
    bool resume_inline;
    asio::any_io_executor ex;
    {
      std::lock_guard lock(s->mu);
      s->queued = false;
      if (!s->waiter) continue;
      waiter.swap(s->waiter);
      s->pending = false;  // this wake-up consumes it
      resume_inline = s->resume_inline;
      ex = std::move(s->executor);  // released once the waiter has run
    }
    if (resume_inline)
      std::move(waiter)();
    else
      asio::dispatch(ex, [w = std::move(waiter)]() mutable { std::move(w)(); });
  }
}

// Destroys the coroutines still parked, as the context destroys its pending operations. Done
// outside every lock: destroying a coroutine frame may destroy notifiers (whose State locks `mu`).
void WakeService::shutdown() {
  std::vector<std::shared_ptr<AsyncNotifier::State>> states;
  {
    std::lock_guard lock(list->mu);
    list->dead = true;
    states.swap(list->ready);
    for (auto& [ptr, weak] : list->bound)
      if (auto s = weak.lock()) states.push_back(std::move(s));
  }
  std::vector<Waiter> parked;
  for (auto& s : states) {
    std::lock_guard lock(s->mu);
    s->queued = false;
    if (s->waiter) parked.push_back(std::move(s->waiter));
    s->executor = {};
  }
  parked.clear();
  states.clear();
}

void park(const std::shared_ptr<AsyncNotifier::State>& s, const asio::any_io_executor& ex, Waiter waiter) {
  std::unique_lock lock(s->mu);
  if (s->pending) {  // notified between wait()'s check and this suspension
    s->pending = false;
    lock.unlock();
    asio::post(ex, [w = std::move(waiter)]() mutable { std::move(w)(); });
    return;
  }
  if (!s->list) {
    s->list = asio::use_service<WakeService>(asio::query(ex, asio::execution::context)).list;
    std::lock_guard list_lock(s->list->mu);
    s->list->bound.emplace(s.get(), s);
  }
  s->waiter.swap(waiter);
  s->executor = asio::prefer(ex, asio::execution::outstanding_work.tracked);
  s->resume_inline = ex.target<asio::io_context::executor_type>() != nullptr;
}

}  // namespace

AsyncNotifier::AsyncNotifier() : state_(std::make_shared<State>()) {}
AsyncNotifier::~AsyncNotifier() = default;

void AsyncNotifier::notify() {
  State& s = *state_;
  std::lock_guard lock(s.mu);
  s.pending = true;
  if (!s.waiter || s.queued) return;
  WakeList& list = *s.list;
  std::lock_guard list_lock(list.mu);
  if (list.dead) return;
  s.queued = true;
  list.ready.push_back(state_);
  if (!list.drain_posted) {
    list.drain_posted = true;
    asio::post(s.executor, [l = s.list] { l->drain(); });
  }
}

asio::awaitable<void> AsyncNotifier::wait() {
  {
    std::lock_guard lock(state_->mu);
    if (state_->pending) {
      state_->pending = false;
      co_return;
    }
  }
  auto ex = co_await asio::this_coro::executor;
  // WHY a named initiation: g++ 12 destroys a lambda temporary inside a co_await expression twice
  // (its captured shared_ptr was released twice).
  auto initiation = [s = state_, ex](auto handler) { park(s, ex, Waiter(std::move(handler))); };
  co_await asio::async_initiate<const asio::use_awaitable_t<>&, void()>(initiation, asio::use_awaitable);
}

}  // namespace sgl::net
