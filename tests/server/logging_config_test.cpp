// /configure_logging's body and what the request log shows at each log_requests_level.
#include "server/protocol/logging_config.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/protocol/api_error.h"

namespace sgl::server {
namespace {

using nlohmann::json;

TEST(LoggingConfig, EmptyBodyChangesNothing) {
  for (const char* body : {"", "  ", "{}"}) {
    auto c = parse_logging_config(body);
    ASSERT_TRUE(c.ok()) << body;
    EXPECT_FALSE(c->log_requests.has_value());
    EXPECT_FALSE(c->log_requests_level.has_value());
  }
}

TEST(LoggingConfig, SGLangFields) {
  auto c = parse_logging_config(
      R"({"log_requests":true,"log_requests_level":3,"dump_requests_folder":"/tmp/d","dump_requests_threshold":10,)"
      R"("crash_dump_folder":null,"log_level":"debug","unknown":1})");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->log_requests, true);
  EXPECT_EQ(c->log_requests_level, 3);
  EXPECT_EQ(c->dump_requests_folder, "/tmp/d");
  EXPECT_EQ(c->dump_requests_threshold, 10);
  EXPECT_FALSE(c->crash_dump_folder.has_value());
  EXPECT_EQ(c->log_level, "debug");
}

TEST(LoggingConfig, BadBodiesAre400) {
  for (const char* body :
       {R"({"log_requests":"yes"})", R"({"log_requests_level":"2"})", R"({"log_level":"loud"})", "[]", "{"}) {
    auto c = parse_logging_config(body);
    ASSERT_FALSE(c.ok()) << body;
    EXPECT_EQ(http_status_of(c.error()), 400) << body;
  }
}

TEST(RequestLogText, Levels) {
  const std::string body = R"({"rid":"r1","text":"secret prompt","sampling_params":{"temperature":0}})";
  EXPECT_EQ(json::parse(request_log_text(body, 0)), json::parse(R"({"rid":"r1"})"));
  EXPECT_EQ(json::parse(request_log_text(body, 1)),
            json::parse(R"({"rid":"r1","sampling_params":{"temperature":0}})"));
  EXPECT_EQ(request_log_text(body, 2), body);
  EXPECT_EQ(request_log_text(body, 3), body);
  EXPECT_EQ(request_log_text("not json", 1), "(8 bytes)");
}

TEST(RequestLogText, Level2CutsLongBodiesOnACharacterBoundary) {
  std::string body = "\"" + std::string(2047, 'a') + "é\"";  // é straddles byte 2048
  std::string shown = request_log_text(body, 2);
  EXPECT_EQ(shown, "\"" + std::string(2047, 'a') + "... (" + std::to_string(body.size()) + " bytes)");
  EXPECT_EQ(request_log_text(body, 3), body);
}

}  // namespace
}  // namespace sgl::server
