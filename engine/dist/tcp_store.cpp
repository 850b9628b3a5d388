#include "engine/dist/tcp_store.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gloo/common/error.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sgl::engine::dist {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

enum Op : uint8_t { kSet = 1, kGet = 2, kClaim = 3 };
enum Reply : uint8_t { kOk = 0, kTimedOut = 1 };

// Waits until fd is readable/writable or the deadline passes; false on timeout or error.
bool wait_fd(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 200)));
    if (r > 0) return (p.revents & (events | POLLHUP | POLLERR)) != 0;
    if (r < 0 && errno != EINTR) return false;
  }
}

bool send_all(int fd, const void* data, size_t n, Clock::time_point deadline) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    if (!wait_fd(fd, POLLOUT, deadline)) return false;
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0) {
      if (w < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool recv_all(int fd, void* data, size_t n, Clock::time_point deadline) {
  char* p = static_cast<char*>(data);
  while (n > 0) {
    if (!wait_fd(fd, POLLIN, deadline)) return false;
    const ssize_t r = ::recv(fd, p, n, 0);
    if (r <= 0) {
      if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      return false;  // peer closed
    }
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

bool send_blob(int fd, const void* data, uint32_t n, Clock::time_point deadline) {
  return send_all(fd, &n, 4, deadline) && (n == 0 || send_all(fd, data, n, deadline));
}

bool recv_blob(int fd, std::vector<char>& out, Clock::time_point deadline) {
  uint32_t n = 0;
  if (!recv_all(fd, &n, 4, deadline)) return false;
  if (n > (64u << 20)) return false;  // a store value is an address or a fingerprint, never this big
  out.resize(n);
  return n == 0 || recv_all(fd, out.data(), n, deadline);
}

}  // namespace

Result<HostPort> parse_host_port(const std::string& addr) {
  HostPort hp;
  std::string port;
  if (!addr.empty() && addr[0] == '[') {
    const auto close = addr.find("]:");
    if (close == std::string::npos)
      return invalid_argument("--dist-init-addr '" + addr + "': expected [v6]:port");
    hp.host = addr.substr(1, close - 1);
    port = addr.substr(close + 2);
  } else {
    const auto colon = addr.rfind(':');
    if (colon == std::string::npos || colon == 0)
      return invalid_argument("--dist-init-addr '" + addr + "': expected host:port");
    hp.host = addr.substr(0, colon);
    port = addr.substr(colon + 1);
  }
  char* end = nullptr;
  const long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p <= 0 || p > 65535)
    return invalid_argument("--dist-init-addr '" + addr + "': port must be 1-65535");
  hp.port = static_cast<uint16_t>(p);
  return hp;
}

// ---- server ---------------------------------------------------------------------------------

Result<std::unique_ptr<TcpStoreServer>> TcpStoreServer::start(uint16_t port) {
  std::unique_ptr<TcpStoreServer> s(new TcpStoreServer());
  s->listen_fd_ = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s->listen_fd_ < 0) return io_error(fmt::format("rendezvous store: socket(): {}", std::strerror(errno)));
  int one = 1, zero = 0;
  ::setsockopt(s->listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  ::setsockopt(s->listen_fd_, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);  // IPv4 too
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_any;
  a.sin6_port = htons(port);
  if (::bind(s->listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(s->listen_fd_, 64) != 0)
    return io_error(fmt::format("rendezvous store: cannot listen on port {}: {} (is another node 0 running?)",
                                port, std::strerror(errno)));
  socklen_t len = sizeof a;
  ::getsockname(s->listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  s->port_ = ntohs(a.sin6_port);
  s->acceptor_ = std::thread([p = s.get()] { p->accept_loop(); });
  return s;
}

TcpStoreServer::~TcpStoreServer() {
  stop_.store(true);
  cv_.notify_all();
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> clients;
  {
    std::lock_guard lock(mu_);
    clients.swap(clients_);
  }
  for (auto& t : clients) t.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

void TcpStoreServer::accept_loop() {
  while (!stop_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard lock(mu_);
    clients_.emplace_back([this, fd] { serve(fd); });
  }
}

void TcpStoreServer::serve(int fd) {
  // A request's parts arrive together; an idle connection just polls until the server stops.
  while (!stop_.load()) {
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, 100);
    if (r == 0) continue;
    if (r < 0 && errno == EINTR) continue;
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    uint8_t op = 0;
    std::vector<char> key, value;
    if (r < 0 || !recv_all(fd, &op, 1, deadline) || !recv_blob(fd, key, deadline) ||
        !recv_blob(fd, value, deadline))
      break;
    const std::string k(key.begin(), key.end());
    uint8_t reply = kOk;
    std::vector<char> out;
    {
      std::unique_lock lock(mu_);
      if (op == kSet) {
        data_[k] = std::move(value);
        cv_.notify_all();
      } else if (op == kClaim) {
        auto [it, inserted] = data_.emplace(k, std::move(value));
        if (inserted) cv_.notify_all();
        out = it->second;
      } else if (op == kGet) {
        int64_t ms = 0;
        if (value.size() == sizeof ms) std::memcpy(&ms, value.data(), sizeof ms);
        const auto until = Clock::now() + milliseconds(ms);
        const bool found = cv_.wait_until(lock, until, [&] { return stop_.load() || data_.count(k); });
        if (found && data_.count(k)) {
          out = data_[k];
        } else {
          reply = kTimedOut;
        }
      } else {
        break;
      }
    }
    const auto send_deadline = Clock::now() + std::chrono::seconds(10);
    if (!send_all(fd, &reply, 1, send_deadline) ||
        !send_blob(fd, out.data(), static_cast<uint32_t>(out.size()), send_deadline))
      break;
  }
  ::close(fd);
}

// ---- client ---------------------------------------------------------------------------------

Result<std::unique_ptr<TcpStore>> TcpStore::connect(const HostPort& addr, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::string last_error = "timed out";
  for (;;) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const int gai = ::getaddrinfo(addr.host.c_str(), std::to_string(addr.port).c_str(), &hints, &res);
    if (gai != 0) {
      last_error = ::gai_strerror(gai);
    } else {
      for (addrinfo* ai = res; ai; ai = ai->ai_next) {
        const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
          ::freeaddrinfo(res);
          int one = 1;
          ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          std::unique_ptr<TcpStore> s(new TcpStore(fd, timeout));
          sockaddr_storage local{};
          socklen_t len = sizeof local;
          char buf[INET6_ADDRSTRLEN] = {};
          if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0) {
            if (local.ss_family == AF_INET)
              ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&local)->sin_addr, buf, sizeof buf);
            else
              ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&local)->sin6_addr, buf, sizeof buf);
          }
          s->local_ip_ = buf;
          return s;
        }
        last_error = std::strerror(errno);
        ::close(fd);
      }
      ::freeaddrinfo(res);
    }
    if (Clock::now() + milliseconds(100) >= deadline) break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  return Error{ErrorCode::kUnavailable,
               fmt::format("cannot reach the rendezvous store at {}:{} within {} s ({}); is node 0 running "
                           "with --dist-init-addr {}:{}?",
                           addr.host, addr.port, timeout.count() / 1000.0, last_error, addr.host, addr.port)};
}

TcpStore::~TcpStore() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::vector<char>> TcpStore::request(uint8_t op, const std::string& key,
                                            const std::vector<char>& value, milliseconds timeout) {
  std::lock_guard lock(mu_);
  // The server may hold a get up to `timeout`; allow the round trip on top.
  const auto deadline = Clock::now() + timeout + std::chrono::seconds(5);
  if (!send_all(fd_, &op, 1, deadline) ||
      !send_blob(fd_, key.data(), static_cast<uint32_t>(key.size()), deadline) ||
      !send_blob(fd_, value.data(), static_cast<uint32_t>(value.size()), deadline))
    return Error{ErrorCode::kUnavailable, "rendezvous store connection lost (node 0 gone?)"};
  uint8_t reply = 0;
  std::vector<char> out;
  if (!recv_all(fd_, &reply, 1, deadline) || !recv_blob(fd_, out, deadline))
    return Error{ErrorCode::kUnavailable, "rendezvous store connection lost (node 0 gone?)"};
  if (reply == kTimedOut)
    return Error{ErrorCode::kUnavailable,
                 fmt::format("rendezvous: '{}' did not appear within {} s", key, timeout.count() / 1000.0)};
  return out;
}

Status TcpStore::put(const std::string& key, const std::vector<char>& value) {
  auto r = request(kSet, key, value, milliseconds(0));
  if (!r.ok()) return std::move(r).take_error();
  return {};
}

Result<std::vector<char>> TcpStore::fetch(const std::string& key, milliseconds timeout) {
  std::vector<char> ms(sizeof(int64_t));
  const int64_t t = timeout.count();
  std::memcpy(ms.data(), &t, sizeof t);
  return request(kGet, key, ms, timeout);
}

Result<std::vector<char>> TcpStore::claim(const std::string& key, const std::vector<char>& value) {
  return request(kClaim, key, value, milliseconds(0));
}

void TcpStore::set(const std::string& key, const std::vector<char>& data) {
  if (auto st = put(key, data); !st.ok()) throw gloo::IoException(st.error().message);
}

std::vector<char> TcpStore::get(const std::string& key) {
  auto r = fetch(key, timeout_);
  if (!r.ok()) throw gloo::IoException(r.error().message);
  return std::move(r).value();
}

void TcpStore::wait(const std::vector<std::string>& keys) { wait(keys, timeout_); }

void TcpStore::wait(const std::vector<std::string>& keys, const milliseconds& timeout) {
  const auto deadline = Clock::now() + timeout;
  for (const auto& k : keys) {
    const auto left =
        std::max(milliseconds(1), std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
    auto r = fetch(k, left);
    if (!r.ok()) throw gloo::IoException(r.error().message);
  }
}

}  // namespace sgl::engine::dist
