// A multi-producer, single-consumer queue between threads and one coroutine: the scheduler thread
// push()es items (e.g. token batches of one request), the HTTP handler co_awaits next(). close()
// ends the stream; next() returns nullopt once the channel is closed and drained. A disconnect
// callback can close() it to wake a handler that is waiting for tokens.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <deque>
#include <mutex>
#include <optional>

#include "net/async_notifier.h"

namespace sgl::net {

template <class T>
class AsyncChannel {
 public:
  // Any thread. False (item dropped) when the channel is already closed.
  bool push(T item) {
    {
      std::lock_guard lock(mu_);
      if (closed_) return false;
      items_.push_back(std::move(item));
    }
    notifier_.notify();
    return true;
  }

  // Any thread. Items already pushed are still delivered.
  void close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    notifier_.notify();
  }

  bool closed() const {
    std::lock_guard lock(mu_);
    return closed_;
  }

  // Consumer coroutine (one at a time). nullopt: closed and drained.
  boost::asio::awaitable<std::optional<T>> next() {
    for (;;) {
      {
        std::lock_guard lock(mu_);
        if (!items_.empty()) {
          T item = std::move(items_.front());
          items_.pop_front();
          co_return std::optional<T>(std::move(item));
        }
        if (closed_) co_return std::nullopt;
      }
      co_await notifier_.wait();
    }
  }

  // Non-blocking: an item if one is ready.
  std::optional<T> try_next() {
    std::lock_guard lock(mu_);
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    return item;
  }

 private:
  mutable std::mutex mu_;
  std::deque<T> items_;
  bool closed_ = false;
  AsyncNotifier notifier_;
};

}  // namespace sgl::net
