#include "engine/dist/rendezvous.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <sstream>

namespace sgl::engine::dist {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::map<std::string, std::string> parse_lines(const std::string& fp) {
  std::map<std::string, std::string> kv;
  std::istringstream in(fp);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) kv[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return kv;
}

std::vector<char> bytes(const std::string& s) { return {s.begin(), s.end()}; }
std::string text(const std::vector<char>& v) { return {v.begin(), v.end()}; }

milliseconds left(Clock::time_point deadline) {
  return std::max(milliseconds(1), std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
}

// Every other node's fingerprint against ours, in node order.
Status check_fingerprints(TcpStore& store, const RendezvousConfig& cfg, Clock::time_point deadline) {
  for (int n = 0; n < cfg.nnodes; ++n) {
    if (n == cfg.node_rank) continue;
    auto theirs = store.fetch(fmt::format("fingerprint/{}", n), left(deadline));
    if (!theirs.ok())
      return Error{ErrorCode::kUnavailable,
                   fmt::format("node {} did not join the rendezvous at {} within --dist-timeout {} s", n,
                               cfg.init_addr, cfg.timeout.count() / 1000.0)};
    const std::string diff = fingerprint_difference(cfg.fingerprint, text(*theirs), n);
    if (!diff.empty())
      return invalid_argument(
          fmt::format("launch arguments differ between node {} and node {}: {}; every node must run the "
                      "same command apart from --node-rank",
                      cfg.node_rank, n, diff));
  }
  return {};
}

}  // namespace

std::string fingerprint_difference(const std::string& mine, const std::string& theirs, int their_node) {
  const auto a = parse_lines(mine), b = parse_lines(theirs);
  std::string diff;
  auto add = [&](const std::string& key, const std::string& here, const std::string& there) {
    if (!diff.empty()) diff += ", ";
    diff += fmt::format("{} ({} here, {} on node {})", key, here.empty() ? "unset" : here,
                        there.empty() ? "unset" : there, their_node);
  };
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    const std::string other = it == b.end() ? "" : it->second;
    if (other != v) add(k, v, other);
  }
  for (const auto& [k, v] : b)
    if (!a.count(k)) add(k, "", v);
  return diff;
}

Result<NodeRendezvous> rendezvous(const RendezvousConfig& cfg) {
  const auto deadline = Clock::now() + cfg.timeout;
  NodeRendezvous out;
  if (cfg.nnodes < 1 || cfg.node_rank < 0 || cfg.node_rank >= cfg.nnodes)
    return invalid_argument(
        fmt::format("--node-rank {} must be in [0, --nnodes {})", cfg.node_rank, cfg.nnodes));
  if (cfg.nnodes == 1 && cfg.init_addr.empty()) {
    // One node: the store only serves this process's ranks, on a free port.
    SGL_ASSIGN_OR_RETURN(out.server, TcpStoreServer::start(0));
    out.store_addr = {"127.0.0.1", out.server->port()};
    out.local_ip = "127.0.0.1";
    return out;
  }
  if (cfg.init_addr.empty())
    return invalid_argument(
        fmt::format("--nnodes {} needs --dist-init-addr host:port (node 0's address)", cfg.nnodes));
  SGL_ASSIGN_OR_RETURN(out.store_addr, parse_host_port(cfg.init_addr));
  if (cfg.node_rank == 0) {
    auto server = TcpStoreServer::start(out.store_addr.port);
    if (!server.ok())
      return Error{ErrorCode::kUnavailable, fmt::format("node 0 cannot serve the rendezvous at {}: {}",
                                                        cfg.init_addr, server.error().message)};
    out.server = std::move(*server);
  }
  SGL_ASSIGN_OR_RETURN(auto store, TcpStore::connect(out.store_addr, cfg.timeout));
  out.local_ip = store->local_ip();
  if (cfg.node_rank == 0 &&
      (out.local_ip == "127.0.0.1" || out.local_ip == "::1" || out.local_ip == "::ffff:127.0.0.1"))
    spdlog::warn(
        "--dist-init-addr {} resolves to loopback: node 0's ranks listen on {}, which only nodes on this "
        "machine can reach; give node 0's network address for a multi-machine run",
        cfg.init_addr, out.local_ip);

  // Claim this node's rank: a second node launched with the same --node-rank is refused (both
  // are told which node holds it).
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  // The attempt number tells apart two claims from one process (tests run nodes as threads).
  static std::atomic<int> attempts{0};
  const std::string me =
      fmt::format("{} (pid {}, {}, attempt {})", host, ::getpid(), out.local_ip, ++attempts);
  SGL_ASSIGN_OR_RETURN(auto holder, store->claim(fmt::format("node/{}", cfg.node_rank), bytes(me)));
  if (text(holder) != me)
    return invalid_argument(
        fmt::format("--node-rank {} is already taken by {}: every node needs its own "
                    "--node-rank in [0, --nnodes {})",
                    cfg.node_rank, text(holder), cfg.nnodes));
  SGL_TRY(store->put(fmt::format("fingerprint/{}", cfg.node_rank), bytes(cfg.fingerprint)));
  Status verdict = check_fingerprints(*store, cfg, deadline);
  SGL_TRY(store->put(fmt::format("checked/{}", cfg.node_rank), bytes("1")));
  if (!verdict.ok() && cfg.node_rank == 0) {
    // Keep the store up a moment so the other nodes can read our fingerprint and report too.
    for (int n = 1; n < cfg.nnodes; ++n)
      (void)store->fetch(fmt::format("checked/{}", n), std::min(left(deadline), milliseconds(3000)));
  }
  SGL_TRY(std::move(verdict));
  return out;
}

}  // namespace sgl::engine::dist
