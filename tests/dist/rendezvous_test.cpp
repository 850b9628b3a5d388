// Rendezvous errors: unreachable node 0, a node rank claimed twice, mismatched launch arguments.
#include "engine/dist/rendezvous.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "engine/dist/tcp_store.h"

namespace sgl::engine::dist {
namespace {

using std::chrono::milliseconds;

uint16_t free_port() {
  auto s = TcpStoreServer::start(0);
  return s.ok() ? (*s)->port() : 0;  // closed again when s goes away
}

RendezvousConfig node(int rank, uint16_t port, const std::string& fp, int timeout_ms = 3000) {
  RendezvousConfig c;
  c.nnodes = 2;
  c.node_rank = rank;
  c.init_addr = "127.0.0.1:" + std::to_string(port);
  c.timeout = milliseconds(timeout_ms);
  c.fingerprint = fp;
  return c;
}

TEST(TcpStore, SetGetClaimAndTimedOutGet) {
  auto server = TcpStoreServer::start(0);
  ASSERT_TRUE(server.ok());
  auto a = TcpStore::connect({"127.0.0.1", (*server)->port()}, milliseconds(2000));
  auto b = TcpStore::connect({"127.0.0.1", (*server)->port()}, milliseconds(2000));
  ASSERT_TRUE(a.ok() && b.ok());
  std::thread later([&] {
    std::this_thread::sleep_for(milliseconds(100));
    ASSERT_TRUE((*b)->put("k", {'v', '1'}).ok());
  });
  auto got = (*a)->fetch("k", milliseconds(2000));  // waits for b's put
  later.join();
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(std::string(got->begin(), got->end()), "v1");
  auto first = (*a)->claim("c", {'a'});
  auto second = (*b)->claim("c", {'b'});
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ((*second)[0], 'a') << "a claimed key keeps its first value";
  auto missing = (*a)->fetch("nope", milliseconds(200));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("nope"), std::string::npos);
}

TEST(Rendezvous, UnreachableNodeZeroFailsWithinTheTimeout) {
  const uint16_t port = free_port();
  const auto t0 = std::chrono::steady_clock::now();
  auto r = rendezvous(node(1, port, "model=a\n", 1500));
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("cannot reach the rendezvous store at 127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << r.error().message;
  EXPECT_LT(s, 4.0);
}

TEST(Rendezvous, MismatchedArgumentsAreReportedOnEveryNode) {
  const uint16_t port = free_port();
  Result<NodeRendezvous> r0 = invalid_argument("unset"), r1 = invalid_argument("unset");
  std::thread n0([&] { r0 = rendezvous(node(0, port, "model=tiny-qwen3\ntp_size=2\n")); });
  std::thread n1([&] { r1 = rendezvous(node(1, port, "model=tiny-llama\ntp_size=2\n")); });
  n0.join();
  n1.join();
  ASSERT_FALSE(r0.ok());
  ASSERT_FALSE(r1.ok());
  EXPECT_NE(r0.error().message.find("model (tiny-qwen3 here, tiny-llama on node 1)"), std::string::npos)
      << r0.error().message;
  EXPECT_NE(r1.error().message.find("model (tiny-llama here, tiny-qwen3 on node 0)"), std::string::npos)
      << r1.error().message;
  EXPECT_EQ(r0.error().message.find("tp_size"), std::string::npos) << "only differing arguments are named";
}

TEST(Rendezvous, SameNodeRankTwiceIsRefused) {
  const uint16_t port = free_port();
  Result<NodeRendezvous> r0 = invalid_argument("unset"), a = invalid_argument("unset"),
                         b = invalid_argument("unset");
  std::thread n0([&] { r0 = rendezvous(node(0, port, "x=1\n", 2000)); });
  std::this_thread::sleep_for(milliseconds(200));
  std::thread n1([&] { a = rendezvous(node(1, port, "x=1\n", 2000)); });
  std::thread n2([&] { b = rendezvous(node(1, port, "x=1\n", 2000)); });
  n0.join();
  n1.join();
  n2.join();
  // Exactly one of the two claimants is refused with the rank named.
  const bool a_refused =
      !a.ok() && a.error().message.find("--node-rank 1 is already taken") != std::string::npos;
  const bool b_refused =
      !b.ok() && b.error().message.find("--node-rank 1 is already taken") != std::string::npos;
  EXPECT_TRUE(a_refused != b_refused)
      << (a.ok() ? "ok" : a.error().message) << " / " << (b.ok() ? "ok" : b.error().message);
}

TEST(Rendezvous, FingerprintDifferenceNamesKeysAndValues) {
  EXPECT_EQ(fingerprint_difference("a=1\nb=2\n", "a=1\nb=2\n", 1), "");
  EXPECT_EQ(fingerprint_difference("a=1\nb=2\n", "a=1\nb=3\n", 1), "b (2 here, 3 on node 1)");
  EXPECT_EQ(fingerprint_difference("a=1\n", "a=1\nc=4\n", 2), "c (unset here, 4 on node 2)");
}

}  // namespace
}  // namespace sgl::engine::dist
