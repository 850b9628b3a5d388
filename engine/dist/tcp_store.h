// The rendezvous key-value store: a small TCP server on node 0 at --dist-init-addr, and the client
// every node uses to exchange what the collective libraries' bootstrap needs (Gloo's pair
// addresses, NCCL's unique id) plus the launch fingerprints checked at rendezvous. The client is a
// gloo::rendezvous::Store so Gloo connects its full mesh through it directly.
//
// Wire format (both directions): op u8, then length-prefixed (u32 little-endian) key and value.
#pragma once

#include <gloo/rendezvous/store.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"

namespace sgl::engine::dist {

struct HostPort {
  std::string host;
  uint16_t port = 0;
};
// "host:port" (IPv4 address or name; "[v6]:port" for IPv6).
Result<HostPort> parse_host_port(const std::string& addr);

class TcpStoreServer {
 public:
  // Listens on every interface at `port` (0: any free port, see port()).
  static Result<std::unique_ptr<TcpStoreServer>> start(uint16_t port);
  ~TcpStoreServer();
  TcpStoreServer(const TcpStoreServer&) = delete;
  TcpStoreServer& operator=(const TcpStoreServer&) = delete;
  uint16_t port() const { return port_; }

 private:
  TcpStoreServer() = default;
  void accept_loop();
  void serve(int fd);

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::mutex mu_;               // guards data_, clients_
  std::condition_variable cv_;  // a key was set (blocking gets wait on it)
  std::map<std::string, std::vector<char>> data_;
  std::vector<std::thread> clients_;
};

class TcpStore final : public gloo::rendezvous::Store {
 public:
  // Retries until `timeout`: the other nodes may start before node 0 listens.
  static Result<std::unique_ptr<TcpStore>> connect(const HostPort& addr, std::chrono::milliseconds timeout);
  ~TcpStore() override;

  // Result-returning API (used by our rendezvous).
  Status put(const std::string& key, const std::vector<char>& value);
  // Waits until the key exists (or the timeout passes: kUnavailable).
  Result<std::vector<char>> fetch(const std::string& key, std::chrono::milliseconds timeout);
  // Sets the key only if absent; returns the value the key holds afterwards (ours when we won).
  Result<std::vector<char>> claim(const std::string& key, const std::vector<char>& value);
  // The local address of the connection to node 0: the interface other nodes can reach us on.
  const std::string& local_ip() const { return local_ip_; }

  // gloo::rendezvous::Store (throws gloo::IoException on failure, as Gloo expects).
  void set(const std::string& key, const std::vector<char>& data) override;
  std::vector<char> get(const std::string& key) override;
  void wait(const std::vector<std::string>& keys) override;
  void wait(const std::vector<std::string>& keys, const std::chrono::milliseconds& timeout) override;

 private:
  explicit TcpStore(int fd, std::chrono::milliseconds timeout) : fd_(fd), timeout_(timeout) {}
  Result<std::vector<char>> request(uint8_t op, const std::string& key, const std::vector<char>& value,
                                    std::chrono::milliseconds timeout);

  int fd_ = -1;
  std::chrono::milliseconds timeout_;
  std::string local_ip_;
  std::mutex mu_;  // one request at a time on the socket
};

}  // namespace sgl::engine::dist
