#include "net/http_server.h"

#include <pthread.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <thread>

#include "net/detail/connection.h"

namespace sgl::net {

namespace asio = boost::asio;
using asio::use_awaitable;
using asio::ip::tcp;

// WHY one io_context per thread rather than one shared by N threads with a strand per
// connection: a connection then lives on one thread, its handlers need no strand (no strand
// locking or re-queueing per step of a stream), and wake-ups from the scheduler land on the
// thread that owns the stream.
struct IoThread {
  asio::io_context ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
};

struct HttpServer::Impl {
  std::vector<std::unique_ptr<IoThread>> io;  // io[0] also runs the listener
  tcp::acceptor acceptor;
  size_t next_io = 0;  // round-robin over io for accepted connections
  std::shared_ptr<detail::ServerShared> shared = std::make_shared<detail::ServerShared>();
  std::vector<std::thread> threads;
  uint16_t port = 0;
  bool stopped = false;
  std::mutex stop_mu;

  explicit Impl(int n_threads) : io(make_io(n_threads)), acceptor(io[0]->ioc) {}

  static std::vector<std::unique_ptr<IoThread>> make_io(int n) {
    std::vector<std::unique_ptr<IoThread>> v;
    for (int i = 0; i < n; ++i) v.push_back(std::make_unique<IoThread>());
    return v;
  }

  asio::awaitable<void> listen();
  asio::awaitable<void> reject(tcp::socket socket);
};

// At the connection cap, the connection that has waited longest for a request makes room for the
// new one (nginx reuses idle keep-alive connections likewise): thousands of idle sockets cannot lock
// out clients with work to do. Only connections with a request in progress make new ones wait for
// a 503. Called with shared.mu held. A claimed connection that receives a request before its close
// runs stays open; kEvictionSlack bounds how far such races may take the count over the cap.
namespace {

constexpr size_t kEvictionSlack = 64;

// `alive` keeps every connection looked at alive until the caller has released shared.mu: the last
// reference dropped here would run ~Connection, which takes shared.mu.
std::shared_ptr<detail::Connection> claim_longest_idle(
    detail::ServerShared& shared, std::vector<std::shared_ptr<detail::Connection>>& alive) {
  detail::Connection* best = nullptr;
  int64_t best_since = 0;
  for (auto& [id, weak] : shared.connections) {
    auto c = weak.lock();
    if (!c) continue;
    const int64_t since = c->idle_since();
    if (since > 0 && (!best || since < best_since)) best = c.get(), best_since = since;
    alive.push_back(std::move(c));
  }
  if (!best || !best->claim_idle(best_since)) return nullptr;
  return best->shared_from_this();
}

}  // namespace

// Over the connection cap with nothing idle: answer 503 and close. The request is drained briefly first so
// that the close does not reset the connection before the client reads the answer.
asio::awaitable<void> HttpServer::Impl::reject(tcp::socket socket) {
  Response r = shared->router.error(503, "Too many connections", Request{});
  std::string msg =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: " + r.content_type +
      "\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: " + std::to_string(r.body.size()) +
      "\r\n\r\n" + r.body;
  boost::system::error_code ec;
  co_await asio::async_write(socket, asio::buffer(msg), asio::redirect_error(use_awaitable, ec));
  socket.shutdown(tcp::socket::shutdown_send, ec);
  asio::steady_timer timer(socket.get_executor(), std::chrono::milliseconds(200));
  timer.async_wait([&socket](boost::system::error_code) {
    boost::system::error_code ignored;
    socket.close(ignored);
  });
  char sink[1024];
  while (!ec) co_await socket.async_read_some(asio::buffer(sink), asio::redirect_error(use_awaitable, ec));
  timer.cancel();
  socket.close(ec);
}

asio::awaitable<void> HttpServer::Impl::listen() {
  for (;;) {
    boost::system::error_code ec;
    asio::io_context& target = io[next_io++ % io.size()]->ioc;
    tcp::socket socket = co_await acceptor.async_accept(target, asio::redirect_error(use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {  // e.g. out of file descriptors: back off instead of spinning
      asio::steady_timer t(acceptor.get_executor(), std::chrono::milliseconds(20));
      co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
      continue;
    }
    std::shared_ptr<detail::Connection> conn, evicted;
    std::vector<std::shared_ptr<detail::Connection>> alive;  // released after the lock
    {
      std::lock_guard lock(shared->mu);
      const size_t open = shared->connections.size(), cap = shared->options.max_connections;
      if (open >= cap && open < cap + kEvictionSlack) evicted = claim_longest_idle(*shared, alive);
      if (open < cap || evicted) {
        uint64_t id = shared->next_id++;
        conn = std::make_shared<detail::Connection>(std::move(socket), shared, id);
        shared->connections.emplace(id, conn);
      }
    }
    if (evicted) evicted->post_close_if_idle();
    if (!conn) {
      auto ex = socket.get_executor();
      asio::co_spawn(ex, reject(std::move(socket)), asio::detached);
      continue;
    }
    auto ex = conn->executor();
    asio::co_spawn(
        ex, [conn]() -> asio::awaitable<void> { co_await conn->run(); }, asio::detached);
  }
}

Result<std::unique_ptr<HttpServer>> HttpServer::start(ServerOptions options, Router router) {
  int n = options.threads > 0 ? options.threads
                              : static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 4u));
  auto impl = std::make_unique<Impl>(n);
  impl->shared->options = std::move(options);
  impl->shared->router = std::move(router);
  const ServerOptions& opt = impl->shared->options;

  boost::system::error_code ec;
  auto address = asio::ip::make_address(opt.host == "localhost" ? "127.0.0.1" : opt.host, ec);
  if (ec) return invalid_argument("invalid --host '" + opt.host + "': " + ec.message());
  tcp::endpoint endpoint(address, opt.port);
  tcp::acceptor& acc = impl->acceptor;
  if (acc.open(endpoint.protocol(), ec); ec) return io_error("socket: " + ec.message());
  acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (acc.bind(endpoint, ec); ec) {
    return io_error("cannot bind " + opt.host + ":" + std::to_string(opt.port) + ": " + ec.message());
  }
  if (acc.listen(asio::socket_base::max_listen_connections, ec); ec)
    return io_error("listen: " + ec.message());
  impl->port = acc.local_endpoint(ec).port();

  asio::co_spawn(acc.get_executor(), impl->listen(), asio::detached);
  for (auto& t : impl->io) {
    impl->threads.emplace_back([ioc = &t->ioc] {
      pthread_setname_np(pthread_self(), "sgl-http-io");  // visible in top -H and /proc (bench_http)
      ioc->run();
    });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { stop(std::chrono::milliseconds(0)); }

uint16_t HttpServer::port() const { return impl_->port; }

asio::any_io_executor HttpServer::executor() const { return impl_->io[0]->ioc.get_executor(); }

size_t HttpServer::active_connections() const { return impl_->shared->connection_count(); }

bool HttpServer::stopping() const { return impl_->shared->draining; }

bool HttpServer::stop(std::chrono::milliseconds grace) {
  return stop(grace, {}, std::chrono::milliseconds(0));
}

bool HttpServer::stop(std::chrono::milliseconds grace, const std::function<void()>& on_grace_expired,
                      std::chrono::milliseconds wind_down) {
  std::lock_guard stop_lock(impl_->stop_mu);
  if (impl_->stopped) return true;
  impl_->stopped = true;
  auto& shared = *impl_->shared;
  shared.draining = true;
  asio::post(impl_->acceptor.get_executor(), [impl = impl_.get()] {
    boost::system::error_code ec;
    impl->acceptor.close(ec);
  });

  auto for_each_connection = [&](auto&& fn) {
    std::vector<std::shared_ptr<detail::Connection>> live;
    {
      std::lock_guard lock(shared.mu);
      for (auto& [id, weak] : shared.connections) {
        if (auto c = weak.lock()) live.push_back(std::move(c));
      }
    }
    for (auto& c : live) fn(*c);
  };
  for_each_connection([](detail::Connection& c) { c.post_close_if_idle(); });

  bool clean;
  {
    std::unique_lock lock(shared.mu);
    clean = shared.changed.wait_for(lock, grace, [&] { return shared.connections.empty(); });
  }
  if (!clean && on_grace_expired) {
    on_grace_expired();
    std::unique_lock lock(shared.mu);
    shared.changed.wait_for(lock, wind_down, [&] { return shared.connections.empty(); });
  }
  if (!clean) {
    for_each_connection([](detail::Connection& c) { c.post_force_close(); });
    std::unique_lock lock(shared.mu);
    shared.changed.wait_for(lock, std::chrono::seconds(2), [&] { return shared.connections.empty(); });
  }
  for (auto& t : impl_->io) {
    t->work.reset();
    t->ioc.stop();
  }
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  return clean;
}

}  // namespace sgl::net
