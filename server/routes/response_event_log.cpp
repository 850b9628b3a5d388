#include "server/routes/response_event_log.h"

#include <algorithm>

namespace sgl::server {

void ResponseEventLog::append(std::string event) {
  std::lock_guard lk(mu_);
  events_.push_back(std::move(event));
  wake_locked();
}

void ResponseEventLog::close() {
  std::lock_guard lk(mu_);
  closed_ = true;
  wake_locked();
}

bool ResponseEventLog::read_from(size_t from, std::vector<std::string>& out) const {
  std::lock_guard lk(mu_);
  for (size_t i = from; i < events_.size(); ++i) out.push_back(events_[i]);
  return closed_;
}

size_t ResponseEventLog::size() const {
  std::lock_guard lk(mu_);
  return events_.size();
}

void ResponseEventLog::subscribe(const std::shared_ptr<net::AsyncNotifier>& follower) {
  std::lock_guard lk(mu_);
  followers_.push_back(follower);
}

void ResponseEventLog::wake_locked() {
  std::erase_if(followers_, [](const std::weak_ptr<net::AsyncNotifier>& w) {
    auto n = w.lock();
    if (n) n->notify();
    return !n;
  });
}

boost::asio::awaitable<bool> follow_event_log(net::Exchange& ex, std::shared_ptr<ResponseEventLog> log,
                                              size_t from) {
  auto wake = std::make_shared<net::AsyncNotifier>();
  log->subscribe(wake);
  size_t next = from;
  for (;;) {
    std::vector<std::string> batch;
    const bool closed = log->read_from(next, batch);
    for (const auto& e : batch) {
      if (!(co_await ex.write_raw(e)).ok()) co_return false;
      ++next;
    }
    if (closed && batch.empty()) break;
    if (batch.empty()) co_await wake->wait();  // a notify since read_from makes this return at once
  }
  co_return (co_await ex.end_stream()).ok();
}

}  // namespace sgl::server
