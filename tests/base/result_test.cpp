#include "base/result.h"

#include <gtest/gtest.h>

namespace sgl {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return invalid_argument("not positive: " + std::to_string(v));
  return v;
}

Result<int> doubled(int v) {
  SGL_ASSIGN_OR_RETURN(int p, parse_positive(v));
  return 2 * p;
}

Status check(int v) {
  SGL_TRY(parse_positive(v));
  return ok_status();
}

TEST(Result, CarriesValueOrError) {
  auto good = doubled(21);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 42);
  auto bad = doubled(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message, "not positive: -1");
}

TEST(Result, StatusPropagatesError) {
  EXPECT_TRUE(check(3).ok());
  Status s = check(0);
  ASSERT_FALSE(s.ok());
  EXPECT_STREQ(error_code_name(s.error().code), "invalid_argument");
}

}  // namespace
}  // namespace sgl
