// Query parameters (GET /v1/responses/{id}?stream=true&starting_after=N): decoded values, the
// first of repeated keys, bare keys, and malformed escapes refused.
#include "server/protocol/query_params.h"

#include <gtest/gtest.h>

namespace sgl::server {
namespace {

TEST(QueryParams, DecodedValuesOfNamedKeys) {
  EXPECT_EQ(query_param("stream=true&starting_after=3", "starting_after"), "3");
  EXPECT_EQ(query_param("stream=true&starting_after=3", "stream"), "true");
  EXPECT_EQ(query_param("a=%41b&a=second", "a"), "Ab");
  EXPECT_EQ(query_param("flag&x=1", "flag"), "");
  EXPECT_EQ(query_param("x=1", "stream"), std::nullopt);
  EXPECT_EQ(query_param("", "stream"), std::nullopt);
  EXPECT_EQ(query_param("%73tream=yes", "stream"), "yes");
  EXPECT_EQ(query_param("stream=%zz", "stream"), std::nullopt);  // a malformed escape
}

}  // namespace
}  // namespace sgl::server
