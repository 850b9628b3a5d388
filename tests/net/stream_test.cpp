// SSE streaming over real TCP: framing and [DONE], write errors and disconnects seen by the
// handler, graceful shutdown with running streams.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <future>
#include <thread>
#include <vector>

#include "net/async_channel.h"
#include "net/http_client.h"
#include "net_test_util.h"

namespace sgl::net {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::RawSocket;

asio::awaitable<void> sleep_for(Exchange& ex, std::chrono::milliseconds d) {
  asio::steady_timer t(ex.executor(), d);
  co_await t.async_wait(asio::use_awaitable);
}

Handler three_events() {
  return [](Exchange& ex) -> asio::awaitable<Response> {
    for (int i = 0; i < 3; ++i) {
      Status s = co_await ex.write_event("{\"i\":" + std::to_string(i) + "}");
      if (!s.ok()) co_return Response{};
    }
    (void)co_await ex.finish();
    co_return Response{};
  };
}

TEST(SseStream, ClientReceivesEachEventThenDone) {
  Router router;
  router.post("/stream", three_events());
  router.get("/plain",
             [](Exchange&) -> asio::awaitable<Response> { co_return Response::text(200, "after"); });
  auto server = testing::start_server(std::move(router));
  ASSERT_TRUE(server);
  HttpClient client("127.0.0.1", server->port());
  std::vector<std::string> events;
  auto r = client.stream("POST", "/stream", "{}", [&](std::string_view d) {
    events.emplace_back(d);
    return true;
  });
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("Content-Type"), "text/event-stream");
  EXPECT_TRUE(r->saw_done);
  EXPECT_EQ(events, (std::vector<std::string>{"{\"i\":0}", "{\"i\":1}", "{\"i\":2}"}));
  // The connection stays usable after a stream (keep-alive through the chunked terminator).
  auto after = client.get("/plain");
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_EQ(after->body, "after");
}

TEST(SseStream, WireFormatIsChunkedDataLinesEndingWithDone) {
  Router router;
  router.post("/stream", three_events());
  auto server = testing::start_server(std::move(router));
  ASSERT_TRUE(server);
  RawSocket s(server->port());
  s.send("POST /stream HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
  ASSERT_TRUE(s.wait_closed(2000ms));
  const std::string& got = s.received();
  EXPECT_NE(got.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << got;
  EXPECT_NE(got.find("Cache-Control: no-cache\r\n"), std::string::npos);
  // One chunk per event: hex length, "data: <json>\n\n", CRLF.
  EXPECT_NE(got.find("\r\n\r\nf\r\ndata: {\"i\":0}\n\n\r\nf\r\ndata: {\"i\":1}\n\n\r\n"), std::string::npos)
      << got;
  EXPECT_NE(got.find("e\r\ndata: [DONE]\n\n\r\n0\r\n\r\n"), std::string::npos) << got;
  EXPECT_EQ(got.substr(got.size() - 5), "0\r\n\r\n");
}

// A handler that writes to a client that went away gets an error back and can abort.
TEST(SseStream, WriteAfterClientClosedReturnsAbortedToHandler) {
  std::promise<ErrorCode> seen;
  Router router;
  router.get("/forever", [&](Exchange& ex) -> asio::awaitable<Response> {
    for (int i = 0; i < 2000; ++i) {
      Status s = co_await ex.write_event("{\"tick\":" + std::to_string(i) + "}");
      if (!s.ok()) {
        seen.set_value(s.error().code);
        co_return Response{};
      }
      co_await sleep_for(ex, 2ms);
    }
    seen.set_value(ErrorCode::kInternal);
    co_return Response{};
  });
  auto server = testing::start_server(std::move(router));
  ASSERT_TRUE(server);
  HttpClient client("127.0.0.1", server->port());
  int got = 0;
  auto r = client.stream("GET", "/forever", "", [&](std::string_view) { return ++got < 3; });
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(got, 3);
  auto fut = seen.get_future();
  ASSERT_EQ(fut.wait_for(2s), std::future_status::ready) << "handler never saw the write fail";
  EXPECT_EQ(fut.get(), ErrorCode::kAborted);
}

// The important case: the handler is waiting for tokens (nothing to write) when the client
// vanishes. on_disconnect wakes it through the channel, so the request can be aborted at once.
TEST(SseStream, DisconnectWhileHandlerWaitsIsDetectedWithoutAWrite) {
  std::promise<bool> aborted;
  auto channel = std::make_shared<AsyncChannel<std::string>>();
  Router router;
  router.post("/generate", [&](Exchange& ex) -> asio::awaitable<Response> {
    ex.on_disconnect([channel] { channel->close(); });
    (void)co_await ex.start_stream();
    auto token = co_await channel->next();  // no producer: only a disconnect can end this
    aborted.set_value(!token.has_value() && ex.disconnected());
    co_return Response{};
  });
  auto server = testing::start_server(std::move(router));
  ASSERT_TRUE(server);
  {
    RawSocket s(server->port());
    s.send("POST /generate HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
    s.read_until("\r\n\r\n", 1000ms);
    ASSERT_NE(s.received().find("200 OK"), std::string::npos);
  }  // closed with FIN: the handler is not writing, only the socket watch can notice
  auto fut = aborted.get_future();
  ASSERT_EQ(fut.wait_for(2s), std::future_status::ready) << "the handler never learned of the disconnect";
  EXPECT_TRUE(fut.get());
}

TEST(SseStream, DisconnectDuringNonStreamingHandlerIsDetected) {
  std::promise<void> noticed;
  Router router;
  router.post("/generate", [&](Exchange& ex) -> asio::awaitable<Response> {
    AsyncChannel<int> wake;
    ex.on_disconnect([&wake] { wake.close(); });
    (void)co_await wake.next();
    if (ex.disconnected()) noticed.set_value();
    co_return Response::text(200, "late");
  });
  auto server = testing::start_server(std::move(router));
  ASSERT_TRUE(server);
  {
    RawSocket s(server->port());
    s.send("POST /generate HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
    std::this_thread::sleep_for(50ms);
    s.reset();
  }
  auto fut = noticed.get_future();
  EXPECT_EQ(fut.wait_for(2s), std::future_status::ready);
}

// A pipelined request that arrives while a handler watches the connection is not lost.
TEST(SseStream, BytesReadWhileWatchingAreKeptForTheNextRequest) {
  Router router;
  router.get("/watch", [](Exchange& ex) -> asio::awaitable<Response> {
    ex.on_disconnect([] {});
    co_await sleep_for(ex, 100ms);
    co_return Response::text(200, "one");
  });
  router.get("/next", [](Exchange&) -> asio::awaitable<Response> { co_return Response::text(200, "two"); });
  auto server = testing::start_server(std::move(router));
  ASSERT_TRUE(server);
  RawSocket s(server->port());
  s.send("GET /watch HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(30ms);  // the watcher is reading now
  s.send("GET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(s.wait_closed(2000ms));
  EXPECT_NE(s.received().find("one"), std::string::npos);
  EXPECT_NE(s.received().find("two"), std::string::npos) << s.received();
}

// Events larger than the socket buffer go out through the asynchronous path, intact.
TEST(SseStream, EventsLargerThanTheSocketBufferArriveIntact) {
  const std::string big(3u << 20, 'z');
  Router router;
  router.get("/big", [&](Exchange& ex) -> asio::awaitable<Response> {
    for (int i = 0; i < 2; ++i) {
      if (!(co_await ex.write_event("\"" + big + "\"")).ok()) co_return Response{};
    }
    (void)co_await ex.finish();
    co_return Response{};
  });
  auto server = testing::start_server(std::move(router));
  ASSERT_TRUE(server);
  HttpClient client("127.0.0.1", server->port());
  std::vector<size_t> sizes;
  bool intact = true;
  auto r = client.stream("GET", "/big", "", [&](std::string_view d) {
    sizes.push_back(d.size());
    intact = intact && d.find_first_not_of('z', 1) == d.size() - 1;
    return true;
  });
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->saw_done);
  EXPECT_EQ(sizes, (std::vector<size_t>{big.size() + 2, big.size() + 2}));
  EXPECT_TRUE(intact);
}

// A client that stops reading must not hold a handler forever: the write times out.
TEST(SseStream, ClientThatStopsReadingIsDroppedAfterWriteTimeout) {
  std::promise<bool> failed;
  Router router;
  router.get("/flood", [&](Exchange& ex) -> asio::awaitable<Response> {
    const std::string chunk(64 * 1024, 'f');
    for (int i = 0; i < 100000; ++i) {
      if (!(co_await ex.write_event(chunk)).ok()) {
        failed.set_value(true);
        co_return Response{};
      }
    }
    failed.set_value(false);
    co_return Response{};
  });
  auto opt = testing::test_options();
  opt.write_timeout = 300ms;
  auto server = testing::start_server(std::move(router), opt);
  ASSERT_TRUE(server);
  RawSocket s(server->port());
  s.send("GET /flood HTTP/1.1\r\nHost: x\r\n\r\n");  // and never read
  auto fut = failed.get_future();
  ASSERT_EQ(fut.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(fut.get());
}

TEST(GracefulShutdown, RunningStreamsFinishAndNewConnectionsAreRefused) {
  Router router;
  router.get("/stream", [](Exchange& ex) -> asio::awaitable<Response> {
    for (int i = 0; i < 5; ++i) {
      if (!(co_await ex.write_event(std::to_string(i))).ok()) co_return Response{};
      co_await sleep_for(ex, 40ms);
    }
    (void)co_await ex.finish();
    co_return Response{};
  });
  auto server = testing::start_server(std::move(router));
  ASSERT_TRUE(server);
  uint16_t port = server->port();
  std::promise<void> first_event;
  std::atomic<int> events{0};
  bool done = false;
  std::thread client_thread([&] {
    HttpClient client("127.0.0.1", port);
    auto r = client.stream("GET", "/stream", "", [&](std::string_view) {
      if (++events == 1) first_event.set_value();
      return true;
    });
    done = r.ok() && r->saw_done;
  });
  ASSERT_EQ(first_event.get_future().wait_for(2s), std::future_status::ready);
  RawSocket idle(port);  // an idle keep-alive connection must not hold up shutdown
  std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(server->stop(3s));
  client_thread.join();
  EXPECT_EQ(events.load(), 5);
  EXPECT_TRUE(done);
  EXPECT_TRUE(idle.wait_closed(500ms));
  RawSocket late(port);
  EXPECT_FALSE(late.connected() && late.send("GET / HTTP/1.1\r\n\r\n") &&
               !late.read_until("HTTP", 300ms).empty());
}

TEST(GracefulShutdown, StreamsStillRunningAfterGraceAreClosedAndHandlersWoken) {
  std::promise<bool> woken;
  auto channel = std::make_shared<AsyncChannel<int>>();
  Router router;
  router.get("/stuck", [&](Exchange& ex) -> asio::awaitable<Response> {
    ex.on_disconnect([channel] { channel->close(); });
    (void)co_await ex.write_event("{}");
    auto v = co_await channel->next();
    woken.set_value(!v.has_value());
    co_return Response{};
  });
  auto server = testing::start_server(std::move(router));
  ASSERT_TRUE(server);
  RawSocket s(server->port());
  s.send("GET /stuck HTTP/1.1\r\nHost: x\r\n\r\n");
  s.read_until("data: {}", 1000ms);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(server->stop(200ms)) << "stop() must report that a stream was cut";
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);
  auto fut = woken.get_future();
  ASSERT_EQ(fut.wait_for(1s), std::future_status::ready);
  EXPECT_TRUE(fut.get());
  EXPECT_TRUE(s.wait_closed(500ms));
}

// sglcpp-server's SIGTERM path: when the grace runs out the caller aborts the requests, and a
// stream still running writes its final event and terminator instead of being cut mid-chunk.
TEST(GracefulShutdown, GraceExpiredCallbackLetsStreamsEndProperly) {
  auto channel = std::make_shared<AsyncChannel<int>>();
  Router router;
  router.get("/long", [channel](Exchange& ex) -> asio::awaitable<Response> {
    (void)co_await ex.write_event("{\"n\":0}");
    auto v = co_await channel->next();  // the "abort", pushed by on_grace_expired
    if (v) (void)co_await ex.write_event("{\"finish_reason\":\"abort\"}");
    (void)co_await ex.finish();
    co_return Response{};
  });
  auto server = testing::start_server(std::move(router));
  ASSERT_TRUE(server);
  std::promise<void> first_event;
  std::vector<std::string> events;
  bool done = false;
  std::thread client_thread([&, port = server->port()] {
    HttpClient client("127.0.0.1", port);
    auto r = client.stream("GET", "/long", "", [&](std::string_view d) {
      events.emplace_back(d);
      if (events.size() == 1) first_event.set_value();
      return true;
    });
    done = r.ok() && r->saw_done;
  });
  ASSERT_EQ(first_event.get_future().wait_for(2s), std::future_status::ready);
  int calls = 0;
  auto t0 = std::chrono::steady_clock::now();
  bool clean = server->stop(
      200ms,
      [&] {
        ++calls;
        channel->push(1);
      },
      2s);
  auto took = std::chrono::steady_clock::now() - t0;
  client_thread.join();
  EXPECT_FALSE(clean) << "the stream did not end by itself within the grace";
  EXPECT_EQ(calls, 1);
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 1500ms) << "stop() must return once the stream has ended, not after the whole wind-down";
  EXPECT_TRUE(done) << "the stream must end with [DONE], not a torn connection";
  EXPECT_EQ(events, (std::vector<std::string>{"{\"n\":0}", "{\"finish_reason\":\"abort\"}"}));
}

}  // namespace
}  // namespace sgl::net
