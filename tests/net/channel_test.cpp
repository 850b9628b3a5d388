// AsyncChannel / AsyncNotifier: producers on plain threads, consumer coroutines on io threads.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <thread>
#include <vector>

#include "net/async_channel.h"
#include "net/sse_parser.h"

namespace sgl::net {
namespace {

namespace asio = boost::asio;

TEST(AsyncChannel, DeliversEveryItemInOrderAcrossThreadsThenEnds) {
  constexpr int kItems = 20000;
  asio::io_context ioc(2);
  AsyncChannel<int> channel;
  std::vector<int> got;
  bool ended = false;
  asio::co_spawn(
      asio::make_strand(ioc),
      [&]() -> asio::awaitable<void> {
        while (auto v = co_await channel.next()) got.push_back(*v);
        ended = true;
      },
      asio::detached);
  std::thread io1([&] { ioc.run(); });
  std::thread io2([&] { ioc.run(); });
  std::thread producer([&] {
    for (int i = 0; i < kItems; ++i) {
      channel.push(i);
      if (i % 1000 == 0) std::this_thread::yield();
    }
    channel.close();
  });
  producer.join();
  io1.join();
  io2.join();
  ASSERT_TRUE(ended);
  ASSERT_EQ(got.size(), static_cast<size_t>(kItems));
  for (int i = 0; i < kItems; ++i) ASSERT_EQ(got[i], i) << "out of order at " << i;
  EXPECT_FALSE(channel.push(1)) << "push after close must be refused";
}

TEST(AsyncChannel, ManyProducersManyConsumersNothingLost) {
  constexpr int kChannels = 16, kPerProducer = 2000;
  asio::io_context ioc(2);
  std::vector<std::unique_ptr<AsyncChannel<int>>> channels;
  std::vector<long> sums(kChannels, 0);
  for (int c = 0; c < kChannels; ++c) {
    channels.push_back(std::make_unique<AsyncChannel<int>>());
    asio::co_spawn(
        asio::make_strand(ioc),
        [&, c]() -> asio::awaitable<void> {
          while (auto v = co_await channels[c]->next()) sums[c] += *v;
        },
        asio::detached);
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) threads.emplace_back([&] { ioc.run(); });
  std::vector<std::thread> producers;
  for (int p = 0; p < 4; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i) channels[(i + p) % kChannels]->push(1);
    });
  }
  for (auto& p : producers) p.join();
  for (auto& ch : channels) ch->close();
  for (auto& t : threads) t.join();
  long total = 0;
  for (long s : sums) total += s;
  EXPECT_EQ(total, 4L * kPerProducer);
}

TEST(AsyncChannel, ItemsPushedBeforeCloseAreStillDelivered) {
  asio::io_context ioc;
  AsyncChannel<std::string> channel;
  channel.push("a");
  channel.push("b");
  channel.close();
  std::vector<std::string> got;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        while (auto v = co_await channel.next()) got.push_back(*v);
      },
      asio::detached);
  ioc.run();
  EXPECT_EQ(got, (std::vector<std::string>{"a", "b"}));
}

// The HTTP server's case: one io thread, plain io_context executor (waiters resumed inline by the
// context's drain), many streams woken in bursts by another thread.
TEST(AsyncChannel, ManyConsumersOnOneSingleThreadedContext) {
  constexpr int kChannels = 64, kRounds = 500;
  asio::io_context ioc(1);
  std::vector<std::unique_ptr<AsyncChannel<int>>> channels;
  std::vector<std::vector<int>> got(kChannels);
  for (int c = 0; c < kChannels; ++c) {
    channels.push_back(std::make_unique<AsyncChannel<int>>());
    asio::co_spawn(
        ioc,
        [&, c]() -> asio::awaitable<void> {
          while (auto v = co_await channels[c]->next()) got[c].push_back(*v);
        },
        asio::detached);
  }
  std::thread io([&] { ioc.run(); });
  for (int r = 0; r < kRounds; ++r)
    for (auto& ch : channels) ch->push(r);
  for (auto& ch : channels) ch->close();
  io.join();
  for (int c = 0; c < kChannels; ++c) {
    ASSERT_EQ(got[c].size(), size_t(kRounds)) << "channel " << c;
    for (int r = 0; r < kRounds; ++r) ASSERT_EQ(got[c][r], r);
  }
}

// A waiter parked when its io_context goes away is destroyed with it (as a pending operation
// is), keeps the context's run() going while parked, and a notify() afterwards does nothing.
TEST(AsyncNotifier, ParkedWaiterIsOutstandingWorkAndDiesWithItsContext) {
  using namespace std::chrono_literals;
  auto notifier = std::make_shared<AsyncNotifier>();
  bool destroyed = false, resumed = false;
  struct SetOnDestroy {
    bool* flag;
    ~SetOnDestroy() { *flag = true; }
  };
  {
    asio::io_context ioc(1);
    asio::co_spawn(
        ioc,
        [&, notifier]() -> asio::awaitable<void> {
          SetOnDestroy guard{&destroyed};
          co_await notifier->wait();
          resumed = true;
        },
        asio::detached);
    ioc.run_for(50ms);
    EXPECT_FALSE(ioc.stopped()) << "a parked waiter must count as outstanding work";
    EXPECT_FALSE(destroyed);
  }
  EXPECT_TRUE(destroyed) << "the parked coroutine outlived its io_context";
  EXPECT_FALSE(resumed);
  std::thread late([&] { notifier->notify(); });
  late.join();
}

TEST(SseParser, SplitsEventsAcrossArbitraryFeedBoundaries) {
  const std::string wire =
      "data: {\"a\":1}\n\n: ping\r\n\r\ndata:x\r\ndata: y\r\n\r\nevent: e\ndata: [DONE]\n\n";
  for (size_t step = 1; step <= wire.size(); ++step) {
    SseParser p;
    std::vector<std::string> got;
    for (size_t i = 0; i < wire.size(); i += step) {
      p.feed(std::string_view(wire).substr(i, step), [&](std::string_view d) {
        got.emplace_back(d);
        return true;
      });
    }
    ASSERT_EQ(got, (std::vector<std::string>{"{\"a\":1}", "x\ny", "[DONE]"})) << "feed step " << step;
  }
}

TEST(SseParser, StopsWhenCallbackReturnsFalse) {
  SseParser p;
  int n = 0;
  EXPECT_FALSE(p.feed("data: 1\n\ndata: 2\n\n", [&](std::string_view) { return ++n < 1; }));
  EXPECT_EQ(n, 1);
}

}  // namespace
}  // namespace sgl::net
