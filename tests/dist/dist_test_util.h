// Runs one function per rank on threads, each with a Gloo communicator over loopback.
#pragma once

#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "engine/dist/gloo_communicator.h"
#include "engine/dist/tcp_store.h"

namespace sgl::engine::dist::testing {

inline void run_ranks(int size, std::chrono::milliseconds timeout,
                      const std::function<void(Communicator&)>& body) {
  auto server = TcpStoreServer::start(0);
  ASSERT_TRUE(server.ok()) << server.error().message;
  const uint16_t port = (*server)->port();
  std::vector<std::thread> threads;
  std::vector<std::string> errors(static_cast<size_t>(size));
  for (int r = 0; r < size; ++r) {
    threads.emplace_back([&, r] {
      auto store = TcpStore::connect({"127.0.0.1", port}, std::chrono::seconds(5));
      if (!store.ok()) {
        errors[r] = store.error().message;
        return;
      }
      GlooGroupOptions o;
      o.rank = r;
      o.size = size;
      o.timeout = timeout;
      auto comm = create_gloo_communicator(**store, o);
      if (!comm.ok()) {
        errors[r] = comm.error().message;
        return;
      }
      body(**comm);
    });
  }
  for (auto& t : threads) t.join();
  for (int r = 0; r < size; ++r) EXPECT_EQ(errors[r], "") << "rank " << r;
}

}  // namespace sgl::engine::dist::testing
