#include "server/protocol/session_params.h"

#include <gtest/gtest.h>

#include "server/protocol/generate_request.h"

namespace sgl::server {
namespace {

TEST(SessionParams, GenerateReadsThemAndWithoutAnIdIgnoresThem) {
  RequestLimits limits;
  auto r = parse_generate_request(
      R"({"input_ids": [1, 2], "session_params": {"id": "s", "rid": "r1", "offset": -1, "replace": true,)"
      R"( "drop_previous_output": false}})",
      limits);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->session.has_value());
  EXPECT_EQ(r->session->id, "s");
  EXPECT_EQ(r->session->rid, "r1");
  EXPECT_EQ(r->session->offset, -1);
  EXPECT_TRUE(r->session->replace);
  auto none = parse_generate_request(R"({"text": "x", "session_params": {"rid": "r1"}})", limits);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->session.has_value());
  auto null_rid =
      parse_generate_request(R"({"text": "x", "session_params": {"id": "s", "rid": null}})", limits);
  ASSERT_TRUE(null_rid.ok());
  EXPECT_FALSE(null_rid->session->rid.has_value());
}

TEST(SessionParams, OneSequencePerTurnAndTypedFields) {
  RequestLimits limits;
  for (const char* body :
       {R"({"text": ["a", "b"], "session_params": {"id": "s"}})",
        R"({"text": "a", "sampling_params": {"n": 2}, "session_params": {"id": "s"}})",
        R"({"text": "a", "session_params": {"id": "s", "offset": "x"}})",
        R"({"text": "a", "session_params": {"id": 5}})", R"({"text": "a", "session_params": "s"})"}) {
    auto r = parse_generate_request(body, limits);
    EXPECT_FALSE(r.ok()) << body;
  }
}

TEST(SessionParams, OpenAndCloseBodies) {
  auto o = parse_open_session(R"({"capacity_of_str_len": 1000, "session_id": "abc", "timeout": 2.5})");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->session_id, "abc");
  EXPECT_EQ(o->capacity_of_str_len, 1000);
  EXPECT_EQ(o->timeout, 2.5);
  EXPECT_FALSE(parse_open_session(R"({"capacity_of_str_len": 10})")->session_id.has_value());
  for (const char* bad :
       {"{}", R"({"capacity_of_str_len": -1})", R"({"capacity_of_str_len": 1, "streaming": true})",
        R"({"capacity_of_str_len": 1, "timeout": 0})", R"({"capacity_of_str_len": 1, "session_id": ""})",
        "[]", "{"})
    EXPECT_FALSE(parse_open_session(bad).ok()) << bad;
  EXPECT_EQ(*parse_close_session(R"({"session_id": "abc"})"), "abc");
  EXPECT_FALSE(parse_close_session("{}").ok());
}

}  // namespace
}  // namespace sgl::server
