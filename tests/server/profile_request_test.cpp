#include "server/protocol/profile_request.h"

#include <gtest/gtest.h>

namespace sgl::server {
namespace {

TEST(ProfileRequest, EmptyBodiesTakeTheDefaults) {
  for (const char* body : {"", "  ", "{}", "null"}) {
    auto o = parse_profile_request(body);
    ASSERT_TRUE(o.ok()) << body;
    EXPECT_TRUE(o->output_dir.empty());
    EXPECT_FALSE(o->num_steps.has_value());
    EXPECT_FALSE(o->start_step.has_value());
  }
}

TEST(ProfileRequest, SglangBenchBodiesParse) {
  // bench_serving's (num_steps an int or null) and profiler.run_profile's (num_steps a string).
  auto a = parse_profile_request(
      R"({"activities": ["CPU", "GPU"], "num_steps": null, "profile_by_stage": false, "profile_stages": null})");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_FALSE(a->num_steps.has_value());
  EXPECT_EQ(a->activities, (std::vector<std::string>{"CPU", "GPU"}));
  auto b = parse_profile_request(
      R"({"output_dir": "/tmp/p/1733.5", "num_steps": "3", "activities": ["CPU", "GPU"], "profile_by_stage": false,)"
      R"( "start_step": 7, "profile_prefix": "bench", "with_stack": true, "host_tracer_level": 2})");
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->output_dir, "/tmp/p/1733.5");
  EXPECT_EQ(b->num_steps, 3);
  EXPECT_EQ(b->start_step, 7);
  EXPECT_EQ(b->prefix, "bench");
}

TEST(ProfileRequest, BadFieldsAreNamed) {
  struct Case {
    const char* body;
    const char* names;
  };
  for (const Case& c :
       {Case{R"({"num_steps": 0})", "num_steps"}, Case{R"({"num_steps": "three"})", "num_steps"},
        Case{R"({"num_steps": 2.5})", "num_steps"}, Case{R"({"start_step": -1})", "start_step"},
        Case{R"({"activities": ["TPU"]})", "TPU"}, Case{R"({"activities": "CPU"})", "activities"},
        Case{R"({"output_dir": 5})", "output_dir"}, Case{R"({"with_stack": "yes"})", "with_stack"},
        Case{R"({"profile_prefix": "../x"})", "profile_prefix"}, Case{"[1]", "JSON object"},
        Case{"{", "not valid JSON"}}) {
    auto o = parse_profile_request(c.body);
    ASSERT_FALSE(o.ok()) << c.body;
    EXPECT_EQ(o.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(o.error().message.find(c.names), std::string::npos) << o.error().message;
  }
}

}  // namespace
}  // namespace sgl::server
