// /separate_reasoning and /parse_function_call from SGLang's request body to its response body.
#include "server/protocol/parse_routes_io.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/protocol/api_error.h"

namespace sgl::server {
namespace {

using nlohmann::json;

TEST(SeparateReasoning, Qwen3SplitsThinkBlock) {
  auto r = separate_reasoning_json(R"({"text":"<think>abc</think>xyz","reasoning_parser":"qwen3"})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(json::parse(*r), json::parse(R"({"reasoning_text":"abc","text":"xyz"})"));
}

TEST(SeparateReasoning, Qwen3WithoutBlockIsAllText) {
  auto r = separate_reasoning_json(R"({"text":"just an answer","reasoning_parser":"qwen3"})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(json::parse(*r), json::parse(R"({"reasoning_text":"","text":"just an answer"})"));
}

TEST(SeparateReasoning, DeepseekR1StartsInsideTheBlock) {
  auto r = separate_reasoning_json(R"({"text":"abc</think>xyz","reasoning_parser":"deepseek-r1"})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(json::parse(*r), json::parse(R"({"reasoning_text":"abc","text":"xyz"})"));
}

TEST(SeparateReasoning, BadRequestsAre400) {
  for (const char* body : {R"({"text":"x","reasoning_parser":"nope"})", R"({"reasoning_parser":"qwen3"})",
                           R"({"text":"x"})", R"({"text":1,"reasoning_parser":"qwen3"})", "[]"}) {
    auto r = separate_reasoning_json(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(http_status_of(r.error()), 400) << body;
  }
}

constexpr const char* kTools =
    R"([{"type":"function","function":{"name":"now","parameters":{"type":"object","properties":{}}}},)"
    R"({"type":"function","function":{"name":"get_weather","parameters":{"type":"object",)"
    R"("properties":{"city":{"type":"string"}}}}}])";

json parse_call(const std::string& parser, const std::string& text) {
  json body = {{"text", text}, {"tools", json::parse(kTools)}, {"tool_call_parser", parser}};
  auto r = parse_function_call_json(body.dump());
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? json::parse(*r) : json();
}

TEST(ParseFunctionCall, JsonParsersGiveToolIndexNameAndParameters) {
  for (const char* parser : {"qwen25", "hermes"}) {
    json r = parse_call(parser,
                        "Checking.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "
                        "{\"city\": \"Paris\"}}\n</tool_call>");
    EXPECT_EQ(r["normal_text"], "Checking.") << parser << r.dump();
    ASSERT_EQ(r["calls"].size(), 1u) << parser << r.dump();
    EXPECT_EQ(r["calls"][0]["tool_index"], 1);
    EXPECT_EQ(r["calls"][0]["name"], "get_weather");
    EXPECT_EQ(json::parse(r["calls"][0]["parameters"].get<std::string>()),
              json::parse(R"({"city":"Paris"})"));
  }
}

TEST(ParseFunctionCall, Qwen3CoderXmlCalls) {
  json r = parse_call("qwen3_coder",
                      "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n</"
                      "function>\n</tool_call>");
  ASSERT_EQ(r["calls"].size(), 1u) << r.dump();
  EXPECT_EQ(r["calls"][0]["tool_index"], 1);
  EXPECT_EQ(json::parse(r["calls"][0]["parameters"].get<std::string>()), json::parse(R"({"city":"Paris"})"));
}

TEST(ParseFunctionCall, NoCallIsAllNormalText) {
  json r = parse_call("qwen25", "plain answer");
  EXPECT_EQ(r, json::parse(R"({"normal_text":"plain answer","calls":[]})"));
}

TEST(ParseFunctionCall, CallsToUndeclaredFunctionsAreDropped) {
  json r = parse_call("qwen25", "<tool_call>\n{\"name\": \"rm_rf\", \"arguments\": {}}\n</tool_call>");
  EXPECT_TRUE(r["calls"].empty()) << r.dump();
}

TEST(ParseFunctionCall, BadRequestsAre400) {
  for (const char* body : {R"({"text":"x","tools":[],"tool_call_parser":"nope"})",
                           R"({"text":"x","tools":[]})", R"({"tools":[],"tool_call_parser":"qwen25"})",
                           R"({"text":"x","tools":[{"type":"function"}],"tool_call_parser":"qwen25"})",
                           R"({"text":"x","tools":{},"tool_call_parser":"qwen25"})"}) {
    auto r = parse_function_call_json(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(http_status_of(r.error()), 400) << body;
  }
}

}  // namespace
}  // namespace sgl::server
