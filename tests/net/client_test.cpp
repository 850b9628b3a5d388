#include <gtest/gtest.h>

#include <thread>

#include "net/http_client.h"
#include "net_test_util.h"

namespace sgl::net {
namespace {

TEST(ParseBaseUrl, AcceptsHostPortAndRejectsOtherSchemes) {
  auto a = parse_base_url("http://127.0.0.1:30000/v1");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 30000);
  auto b = parse_base_url("localhost");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->port, 80);
  EXPECT_FALSE(parse_base_url("https://x:1").ok());
  EXPECT_FALSE(parse_base_url("http://x:notaport").ok());
}

TEST(HttpClient, ConnectionRefusedIsAnErrorValue) {
  uint16_t port;
  {
    auto server = testing::start_server(Router{});
    ASSERT_TRUE(server);
    port = server->port();
  }
  HttpClient client("127.0.0.1", port);
  auto r = client.get("/health");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kIo);
}

TEST(HttpClient, ReconnectsWhenTheServerClosedTheKeptAliveConnection) {
  Router router;
  router.get("/x", [](Exchange&) -> boost::asio::awaitable<Response> { co_return Response::text(200, "x"); });
  auto opt = testing::test_options();
  opt.idle_timeout = std::chrono::milliseconds(50);
  auto server = testing::start_server(std::move(router), opt);
  ASSERT_TRUE(server);
  HttpClient client("127.0.0.1", server->port());
  ASSERT_TRUE(client.get("/x").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // server drops the idle connection
  auto r = client.get("/x");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->body, "x");
}

}  // namespace
}  // namespace sgl::net
