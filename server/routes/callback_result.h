// A scheduler callback's value, awaited from a route coroutine: the callback runs on the scheduler
// thread, stores the value and wakes the coroutine through an AsyncNotifier.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <utility>

#include "net/async_notifier.h"

namespace sgl::server {

template <class T>
struct CallbackResult {
  std::shared_ptr<net::AsyncNotifier> notifier = std::make_shared<net::AsyncNotifier>();
  std::shared_ptr<std::pair<std::atomic<bool>, T>> slot = std::make_shared<std::pair<std::atomic<bool>, T>>();
  auto callback() {
    return [n = notifier, s = slot](T v) {
      s->second = std::move(v);
      s->first.store(true, std::memory_order_release);
      n->notify();
    };
  }
  boost::asio::awaitable<T> wait() {
    while (!slot->first.load(std::memory_order_acquire)) co_await notifier->wait();
    co_return slot->second;
  }
};

}  // namespace sgl::server
