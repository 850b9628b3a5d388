// HTTP server behaviour over real loopback TCP: routing, keep-alive, pipelining, limits, timeouts,
// connection cap, handler failures.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <set>
#include <stdexcept>
#include <thread>

#include "net/http_client.h"
#include "net_test_util.h"

namespace sgl::net {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::RawSocket;

Handler echo_body() {
  return [](Exchange& ex) -> asio::awaitable<Response> { co_return Response::text(200, ex.request().body); };
}

TEST(HttpServer, RoutesKnownPathsAndFormats404And405WithCallerShape) {
  Router router;
  router.get("/health", [](Exchange&) -> asio::awaitable<Response> { co_return Response::text(200, "ok"); });
  router.post("/v1/echo", echo_body());
  router.set_error_formatter([](int status, std::string_view msg, const Request& req) {
    return Response::json(status, "{\"object\":\"error\",\"path\":\"" + req.path +
                                      "\",\"status\":" + std::to_string(status) + "}");
  });
  auto server = testing::start_server(std::move(router));
  ASSERT_TRUE(server);
  HttpClient client("127.0.0.1", server->port());

  auto ok = client.get("/health");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body, "ok");

  auto echo = client.post_json("/v1/echo?x=1", "{\"a\":1}");
  ASSERT_TRUE(echo.ok());
  EXPECT_EQ(echo->body, "{\"a\":1}");

  auto missing = client.get("/nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->body, "{\"object\":\"error\",\"path\":\"/nope\",\"status\":404}");
  EXPECT_EQ(missing->header("Content-Type"), "application/json");

  auto wrong = client.get("/v1/echo");
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong->status, 405);
  EXPECT_EQ(wrong->header("Allow"), "POST");
  EXPECT_EQ(wrong->body, "{\"object\":\"error\",\"path\":\"/v1/echo\",\"status\":405}");
}

TEST(HttpServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  Router router;
  router.get("/who", [](Exchange& ex) -> asio::awaitable<Response> {
    co_return Response::text(200, ex.request().remote_address);
  });
  auto server = testing::start_server(std::move(router));
  ASSERT_TRUE(server);
  HttpClient client("127.0.0.1", server->port());
  std::set<std::string> peers;
  for (int i = 0; i < 5; ++i) {
    auto r = client.get("/who");
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->header("Connection"), "keep-alive");
    peers.insert(r->body);
  }
  EXPECT_EQ(peers.size(), 1u) << "each request came from a new client port: keep-alive not honoured";
  EXPECT_EQ(server->active_connections(), 1u);
}

TEST(HttpServer, PipelinedRequestsAreAnsweredInOrder) {
  Router router;
  router.get("/slow", [](Exchange& ex) -> asio::awaitable<Response> {
    asio::steady_timer t(ex.executor(), 80ms);
    co_await t.async_wait(asio::use_awaitable);
    co_return Response::text(200, "first");
  });
  router.get("/fast", [](Exchange& ex) -> asio::awaitable<Response> {
    co_return Response::text(200, "then-" + ex.request().query);
  });
  auto server = testing::start_server(std::move(router));
  ASSERT_TRUE(server);
  RawSocket s(server->port());
  ASSERT_TRUE(s.connected());
  ASSERT_TRUE(
      s.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
             "GET /fast?a HTTP/1.1\r\nHost: x\r\n\r\n"
             "GET /fast?b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  ASSERT_TRUE(s.wait_closed(2000ms));
  const std::string& all = s.received();
  EXPECT_EQ(testing::count_of(all, "HTTP/1.1 200 OK"), 3u) << all;
  size_t a = all.find("first"), b = all.find("then-a"), c = all.find("then-b");
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(c, std::string::npos);
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
}

TEST(HttpServer, BodyOverLimitGets413) {
  Router router;
  router.post("/echo", echo_body());
  auto opt = testing::test_options();
  opt.max_request_bytes = 1024;
  auto server = testing::start_server(std::move(router), opt);
  ASSERT_TRUE(server);
  HttpClient client("127.0.0.1", server->port());
  auto small = client.post_json("/echo", std::string(1000, 'a'));
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->status, 200);
  auto big = client.post_json("/echo", std::string(4096, 'a'));
  ASSERT_TRUE(big.ok()) << big.error().message;
  EXPECT_EQ(big->status, 413);
  EXPECT_NE(big->body.find("\"code\":413"), std::string::npos) << big->body;
  EXPECT_EQ(big->header("Connection"), "close");
}

TEST(HttpServer, HugeHeaderGets431) {
  Router router;
  router.get("/x", echo_body());
  auto opt = testing::test_options();
  opt.max_header_bytes = 8192;
  auto server = testing::start_server(std::move(router), opt);
  ASSERT_TRUE(server);
  RawSocket s(server->port());
  ASSERT_TRUE(s.connected());
  s.send("GET /x HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'b') + "\r\n\r\n");
  std::string got = s.read_until("\r\n\r\n", 2000ms);
  EXPECT_EQ(got.rfind("HTTP/1.1 431 ", 0), 0u) << got.substr(0, 200);
}

TEST(HttpServer, MalformedRequestGets400) {
  Router router;
  router.get("/x", echo_body());
  auto server = testing::start_server(std::move(router));
  ASSERT_TRUE(server);
  RawSocket s(server->port());
  s.send("THIS IS NOT HTTP\r\n\r\n");
  std::string got = s.read_until("\r\n\r\n", 2000ms);
  EXPECT_EQ(got.rfind("HTTP/1.1 400 ", 0), 0u) << got;
}

TEST(HttpServer, SlowClientIsDisconnectedAfterReadTimeout) {
  Router router;
  router.get("/x", echo_body());
  auto opt = testing::test_options();
  opt.read_timeout = 300ms;
  auto server = testing::start_server(std::move(router), opt);
  ASSERT_TRUE(server);
  RawSocket s(server->port());
  auto t0 = std::chrono::steady_clock::now();
  s.send("GET /x HTTP/1.1\r\nHost: x\r\n");  // headers never finished
  EXPECT_TRUE(s.wait_closed(2000ms)) << "a client that stalls mid-request must be dropped";
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, 250ms);
  EXPECT_TRUE(s.received().empty()) << s.received();
}

TEST(HttpServer, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  Router router;
  router.get("/x", echo_body());
  auto opt = testing::test_options();
  opt.idle_timeout = 200ms;
  auto server = testing::start_server(std::move(router), opt);
  ASSERT_TRUE(server);
  RawSocket s(server->port());
  s.send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(s.wait_closed(2000ms));
  EXPECT_EQ(s.received().rfind("HTTP/1.1 200 OK", 0), 0u);
}

// At the cap with every connection busy (a request in progress), a new one gets 503 and is closed.
TEST(HttpServer, ConnectionsOverTheCapWithNoneIdleGet503) {
  Router router;
  router.get("/slow", [](Exchange& ex) -> asio::awaitable<Response> {
    asio::steady_timer t(ex.executor(), 1500ms);
    co_await t.async_wait(asio::use_awaitable);
    co_return Response::text(200, "done");
  });
  auto opt = testing::test_options();
  opt.max_connections = 2;
  auto server = testing::start_server(std::move(router), opt);
  ASSERT_TRUE(server);
  RawSocket a(server->port()), b(server->port());
  a.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  b.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  for (int i = 0; i < 100 && server->active_connections() < 2; ++i) std::this_thread::sleep_for(10ms);
  std::this_thread::sleep_for(50ms);  // both requests read: neither connection is idle now
  ASSERT_EQ(server->active_connections(), 2u);
  RawSocket c(server->port());
  c.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(c.wait_closed(1000ms));
  EXPECT_EQ(c.received().rfind("HTTP/1.1 503 ", 0), 0u) << c.received();
  EXPECT_NE(c.received().find("Retry-After: 1"), std::string::npos);
  // The busy ones were not disturbed.
  EXPECT_NE(a.read_until("done", 3000ms).find("HTTP/1.1 200 OK"), std::string::npos);
  EXPECT_NE(b.read_until("done", 3000ms).find("HTTP/1.1 200 OK"), std::string::npos);
}

// At the cap, the connection idle the longest (keep-alive, waiting for its next request) is closed
// to make room: idle sockets cannot lock out a client with work to do.
TEST(HttpServer, AtTheCapTheLongestIdleConnectionMakesRoom) {
  Router router;
  router.get("/x", echo_body());
  auto opt = testing::test_options();
  opt.max_connections = 2;
  auto server = testing::start_server(std::move(router), opt);
  ASSERT_TRUE(server);
  RawSocket a(server->port());
  a.send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n");
  a.read_until("\r\n\r\n", 1000ms);
  std::this_thread::sleep_for(20ms);  // a has been idle longer than b
  RawSocket b(server->port());
  b.send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n");
  b.read_until("\r\n\r\n", 1000ms);
  ASSERT_EQ(server->active_connections(), 2u);
  RawSocket c(server->port());
  c.send("GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(c.wait_closed(2000ms));
  EXPECT_EQ(c.received().rfind("HTTP/1.1 200 OK", 0), 0u) << c.received();
  EXPECT_TRUE(a.wait_closed(2000ms));  // the longest idle made room
  // b, idle for less time, still serves.
  const size_t first = b.received().size();
  b.send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n");
  for (int i = 0; i < 100 && b.received().find("HTTP/1.1 200 OK", first) == std::string::npos; ++i)
    b.read_until(std::string(1, '\0'), 20ms);
  EXPECT_NE(b.received().find("HTTP/1.1 200 OK", first), std::string::npos) << b.received();
}

TEST(HttpServer, HandlerExceptionBecomes500AndServerKeepsServing) {
  Router router;
  router.get("/boom", [](Exchange&) -> asio::awaitable<Response> {
    throw std::runtime_error("kaboom");
    co_return Response{};
  });
  router.get("/ok", echo_body());
  auto server = testing::start_server(std::move(router));
  ASSERT_TRUE(server);
  HttpClient client("127.0.0.1", server->port());
  auto r = client.get("/boom");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 500);
  EXPECT_NE(r->body.find("kaboom"), std::string::npos);
  auto again = client.get("/ok");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->status, 200);
}

TEST(HttpServer, BindingABusyPortIsAnErrorValue) {
  Router router;
  auto first = testing::start_server(Router{});
  ASSERT_TRUE(first);
  auto opt = testing::test_options();
  opt.port = first->port();
  auto second = HttpServer::start(opt, std::move(router));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::kIo);
}

// 200 clients on one client io_context, each holding its request open in the handler at the
// same time: every one is served and the handler really sees 200 concurrent exchanges.
TEST(HttpServer, ServesTwoHundredConcurrentConnections) {
  constexpr int kClients = 200;
  std::atomic<int> inside{0}, peak{0};
  Router router;
  router.get("/hold", [&](Exchange& ex) -> asio::awaitable<Response> {
    int now = ++inside;
    for (int p = peak.load(); now > p && !peak.compare_exchange_weak(p, now);) {
    }
    asio::steady_timer t(ex.executor(), 300ms);
    co_await t.async_wait(asio::use_awaitable);
    --inside;
    co_return Response::text(200, "held");
  });
  auto opt = testing::test_options();
  auto server = testing::start_server(std::move(router), opt);
  ASSERT_TRUE(server);

  asio::io_context ioc;
  std::atomic<int> ok{0};
  std::vector<std::unique_ptr<AsyncHttpClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<AsyncHttpClient>(ioc.get_executor(), "127.0.0.1", server->port()));
    asio::co_spawn(
        ioc,
        [&, c = clients.back().get()]() -> asio::awaitable<void> {
          for (int k = 0; k < 2; ++k) {
            auto r = co_await c->request("GET", "/hold");
            if (r.ok() && r->status == 200 && r->body == "held") ++ok;
          }
        },
        asio::detached);
  }
  ioc.run();
  EXPECT_EQ(ok.load(), 2 * kClients);
  EXPECT_EQ(peak.load(), kClients);
  EXPECT_EQ(server->active_connections(), static_cast<size_t>(kClients));
}

}  // namespace
}  // namespace sgl::net
