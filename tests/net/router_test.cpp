// Route matching without a socket: exact routes beat prefixes, the longest prefix wins, a known
// path with another method answers 405 with Allow, unknown paths 404 through the formatter.
#include "net/router.h"

#include <gtest/gtest.h>

#include <boost/asio/awaitable.hpp>

namespace sgl::net {
namespace {

// Handlers are told apart by the address of the std::function the router stores; none runs.
Handler tagged() {
  return [](Exchange&) -> boost::asio::awaitable<Response> { co_return Response::json(200, "{}"); };
}

Request req(std::string method, std::string path) {
  Request r;
  r.method = std::move(method);
  r.path = path;
  r.target = std::move(path);
  return r;
}

class RouterMatch : public ::testing::Test {
 protected:
  void SetUp() override {
    router.get("/v1/models", tagged());
    router.add_prefix("GET", "/v1/", tagged());
    router.add_prefix("GET", "/v1/models/", tagged());
    router.add_prefix("POST", "/v1/models/", tagged());
  }
  Router router;
};

TEST_F(RouterMatch, ExactRouteWinsOverAMatchingPrefix) {
  auto m = router.match(req("GET", "/v1/models"));
  ASSERT_NE(m.handler, nullptr);
  // The prefix "/v1/" also matches "/v1/models" but has no POST either; the exact route must be
  // the one chosen: a different handler from the prefix's.
  auto post = router.match(req("POST", "/v1/models"));
  EXPECT_EQ(post.handler, nullptr);
  EXPECT_EQ(post.error.status, 405);
  EXPECT_NE(m.handler, router.match(req("GET", "/v1/x")).handler);
}

TEST_F(RouterMatch, LongestPrefixWins) {
  auto deep = router.match(req("GET", "/v1/models/qwen3"));
  auto shallow = router.match(req("GET", "/v1/other"));
  ASSERT_NE(deep.handler, nullptr);
  ASSERT_NE(shallow.handler, nullptr);
  EXPECT_NE(deep.handler, shallow.handler);
  // "/v1/models/" has a POST handler and "/v1/" does not: POST under the longer prefix is routed,
  // POST under only the shorter one is a 405 — so the longer prefix's method map was used.
  EXPECT_NE(router.match(req("POST", "/v1/models/qwen3")).handler, nullptr);
  EXPECT_EQ(router.match(req("POST", "/v1/other")).error.status, 405);
  // The same deep path always resolves to the same handler.
  EXPECT_EQ(router.match(req("GET", "/v1/models/another/name")).handler, deep.handler);
}

TEST_F(RouterMatch, PrefixMustMatchFromTheStart) {
  auto m = router.match(req("GET", "/x/v1/models/a"));
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_EQ(m.error.status, 404);
  EXPECT_NE(m.error.body.find("Not Found: GET /x/v1/models/a"), std::string::npos) << m.error.body;
}

TEST_F(RouterMatch, MethodNotAllowedListsTheAllowedMethods) {
  auto m = router.match(req("DELETE", "/v1/models/a"));
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_EQ(m.error.status, 405);
  std::string allow;
  for (const auto& [name, value] : m.error.headers)
    if (name == "Allow") allow = value;
  EXPECT_EQ(allow, "GET, POST");
}

TEST_F(RouterMatch, ErrorsGoThroughTheFormatter) {
  router.set_error_formatter([](int status, std::string_view message, const Request& r) {
    return Response::json(status,
                          "custom " + std::to_string(status) + " " + std::string(message) + " " + r.path);
  });
  auto m = router.match(req("GET", "/nowhere"));
  EXPECT_EQ(m.error.body, "custom 404 Not Found: GET /nowhere /nowhere");
}

}  // namespace
}  // namespace sgl::net
