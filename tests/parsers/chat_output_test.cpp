// ChatOutputParser: the reasoning parser and the tool-call parser chained as the chat route uses
// them, and the JSON the route writes for tool calls.
#include "server/parsers/chat_output.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "chunking.h"

namespace sgl::server {
namespace {

constexpr const char* kTools = R"([
  {"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{
    "city":{"type":"string"},"days":{"type":"integer"}}}}},
  {"type":"function","function":{"name":"now"}}])";

ChatParsingOptions options(std::string tool_parser, std::string reasoning_parser) {
  ChatParsingOptions o;
  o.tool_call_parser = std::move(tool_parser);
  o.reasoning_parser = std::move(reasoning_parser);
  o.tools_json = kTools;
  return o;
}

std::unique_ptr<ChatOutputParser> make(const ChatParsingOptions& o, std::string_view prompt = "") {
  auto p = ChatOutputParser::create(o, prompt);
  EXPECT_TRUE(p.ok()) << p.error().message;
  return p.ok() ? std::move(*p) : nullptr;
}

const std::string kThinkAndCalls =
    "<think>\nThe user wants weather.\n</think>\n\nLet me check.\n<tool_call>\n<function=get_weather>\n"
    "<parameter=city>\nSan <Francisco> \"CA\"\n</parameter>\n<parameter=days>\n3\n</parameter>\n</function>\n"
    "</tool_call>\n<tool_call>\n<function=now>\n</function>\n</tool_call>";

TEST(ChatOutputParser, SplitsReasoningContentAndCalls) {
  auto p = make(options("qwen3_coder", "qwen3"));
  ChatMessageParts parts = parse_chat_output(*p, kThinkAndCalls);
  EXPECT_EQ(parts.reasoning, "The user wants weather.");
  EXPECT_EQ(parts.content, "Let me check.");
  ASSERT_EQ(parts.calls.size(), 2u);
  EXPECT_EQ(parts.calls[0].name, "get_weather");
  EXPECT_EQ(nlohmann::json::parse(parts.calls[0].arguments),
            nlohmann::json::parse(R"({"city":"San <Francisco> \"CA\"","days":3})"));
  EXPECT_EQ(parts.calls[1].name, "now");
  EXPECT_EQ(nlohmann::json::parse(parts.calls[1].arguments), nlohmann::json::object());
  EXPECT_EQ(p->num_calls(), 2);
}

// Streamed at any cut, the pieces add up to the whole parse and no tag fragment leaks.
TEST(ChatOutputParser, StreamingEqualsWholeAtEveryCut) {
  for (const char* tool_parser : {"qwen3_coder", "hermes"}) {
    std::string text =
        std::string(tool_parser) == "hermes"
            ? "<think>why</think>\n\nOK.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "
              "{\"city\": \"Paris\", \"days\": 2}}\n</tool_call>"
            : kThinkAndCalls;
    ChatMessageParts whole = parse_chat_output(*make(options(tool_parser, "qwen3")), text);
    ASSERT_FALSE(whole.calls.empty());
    for (const auto& cut : testing::cuts_of(text)) {
      auto p = make(options(tool_parser, "qwen3"));
      std::string reasoning, content;
      ParsedToolCalls calls;
      auto take = [&](ChatPieces pieces) {
        EXPECT_EQ(pieces.content.find("<tool"), std::string::npos) << pieces.content;
        EXPECT_EQ(pieces.content.find("think>"), std::string::npos) << pieces.content;
        EXPECT_EQ(pieces.reasoning.find("</"), std::string::npos) << pieces.reasoning;
        reasoning += pieces.reasoning;
        merge_tool_items(ToolParseResult{pieces.content, pieces.calls}, calls);
      };
      for (const auto& piece : cut) take(p->feed(piece));
      take(p->finish());
      EXPECT_EQ(reasoning, whole.reasoning);
      EXPECT_EQ(calls.content, whole.content);
      ASSERT_EQ(calls.calls.size(), whole.calls.size());
      for (size_t i = 0; i < calls.calls.size(); ++i) {
        EXPECT_EQ(calls.calls[i].name, whole.calls[i].name);
        EXPECT_EQ(calls.calls[i].arguments, whole.calls[i].arguments);
      }
    }
  }
}

TEST(ChatOutputParser, OpenThinkInPromptMeansOutputStartsInReasoning) {
  auto p = make(options("", "qwen3"), "<|im_start|>assistant\n<think>\n");
  ChatMessageParts parts = parse_chat_output(*p, "step one\n</think>\n\nAnswer: 4");
  EXPECT_EQ(parts.reasoning, "step one");
  EXPECT_EQ(parts.content, "Answer: 4");
}

TEST(ChatOutputParser, WhatTurnsParsingOff) {
  const std::string text =
      "<think>r</think>\n\n<tool_call>\n{\"name\": \"now\", \"arguments\": {}}\n</tool_call>";
  auto no_thinking = options("hermes", "qwen3");
  no_thinking.thinking_enabled = false;
  auto a = parse_chat_output(*make(no_thinking), text);
  EXPECT_EQ(a.reasoning, "");
  EXPECT_EQ(a.calls.size(), 1u);
  EXPECT_EQ(a.content, "<think>r</think>");

  auto kept = options("hermes", "qwen3");
  kept.separate_reasoning = false;
  EXPECT_EQ(parse_chat_output(*make(kept), text).reasoning, "");

  auto none = options("hermes", "qwen3");
  none.tool_choice_none = true;
  auto b = parse_chat_output(*make(none), text);
  EXPECT_EQ(b.reasoning, "r");
  EXPECT_TRUE(b.calls.empty());
  EXPECT_NE(b.content.find("<tool_call>"), std::string::npos);

  auto no_tools = options("hermes", "");
  no_tools.tools_json.reset();
  auto c = parse_chat_output(*make(no_tools), text);
  EXPECT_EQ(c.content, text);
  EXPECT_TRUE(c.calls.empty());
}

TEST(ChatOutputParser, StreamReasoningFalseSendsTheBlockWhole) {
  auto o = options("", "qwen3");
  o.stream_reasoning = false;
  auto p = make(o);
  std::vector<std::string> reasoning_pieces;
  std::string content;
  for (const char* piece : {"<think>a", " b", " c</think>", "\n\nans", "wer"}) {
    ChatPieces d = p->feed(piece);
    if (!d.reasoning.empty()) reasoning_pieces.push_back(d.reasoning);
    content += d.content;
  }
  content += p->finish().content;
  ASSERT_EQ(reasoning_pieces.size(), 1u);
  EXPECT_EQ(reasoning_pieces[0], "a b c");
  EXPECT_EQ(content, "answer");
}

TEST(ChatOutputParser, BadToolsAreRefused) {
  auto o = options("qwen3_coder", "");
  o.tools_json = R"([{"type":"function","function":{"name":"f","parameters":"x"}}])";
  EXPECT_FALSE(ChatOutputParser::create(o, "").ok());
  o.tool_call_parser = "";  // refused even without a parser: the template would render them
  EXPECT_FALSE(ChatOutputParser::create(o, "").ok());
}

TEST(ChatOutputParser, JsonArrayCallsOfRequiredToolChoice) {
  auto calls =
      parse_json_array_calls(R"([{"name":"get_weather","parameters":{"city":"Oslo"}},{"name":"now"}])");
  ASSERT_TRUE(calls.has_value());
  ASSERT_EQ(calls->size(), 2u);
  EXPECT_EQ((*calls)[0].arguments, R"({"city":"Oslo"})");
  EXPECT_EQ((*calls)[1].arguments, "{}");
  EXPECT_FALSE(parse_json_array_calls("I will not call").has_value());
  EXPECT_FALSE(parse_json_array_calls(R"([{"city":"Oslo"}])").has_value());
  EXPECT_FALSE(parse_json_array_calls("[]").has_value());
}

// tool_choice required/named: a JSON-array answer is read as calls, streamed or not; an answer in
// the model's own format still goes through the configured parser.
TEST(ChatOutputParser, ForcedToolChoiceReadsJsonArrayAnswers) {
  auto forced = options("qwen3_coder", "qwen3");
  forced.forced_tool_call = true;
  const std::string array = R"(<think>pick</think>
 [{"name": "get_weather", "parameters": {"city": "Oslo", "days": 1}}, {"name": "now", "parameters": {}}])";
  for (const auto& cut : testing::cuts_of(array)) {
    auto p = make(forced);
    ParsedToolCalls calls;
    std::string reasoning;
    for (const auto& piece : cut) {
      ChatPieces d = p->feed(piece);
      reasoning += d.reasoning;
      merge_tool_items(ToolParseResult{d.content, d.calls}, calls);
    }
    ChatPieces tail = p->finish();
    merge_tool_items(ToolParseResult{tail.content, tail.calls}, calls);
    EXPECT_EQ(reasoning + tail.reasoning, "pick");
    EXPECT_EQ(calls.content, "");
    ASSERT_EQ(calls.calls.size(), 2u);
    EXPECT_EQ(calls.calls[0].name, "get_weather");
    EXPECT_EQ(calls.calls[0].arguments, R"({"city":"Oslo","days":1})");
    EXPECT_EQ(calls.calls[1].name, "now");
    EXPECT_EQ(p->num_calls(), 2);
  }
  auto own_format =
      parse_chat_output(*make(forced), "<tool_call>\n<function=now>\n</function>\n</tool_call>");
  ASSERT_EQ(own_format.calls.size(), 1u);
  EXPECT_EQ(own_format.calls[0].name, "now");
  auto not_calls = parse_chat_output(*make(forced), "[1, 2] are numbers");
  EXPECT_TRUE(not_calls.calls.empty());
  EXPECT_EQ(not_calls.content, "[1, 2] are numbers");
}

TEST(ChatOutputParser, ToolCallJsonShapes) {
  auto arr = nlohmann::json::parse(tool_calls_json({{"get_weather", R"({"city":"Oslo"})"}, {"now", "{}"}}));
  ASSERT_EQ(arr.size(), 2u);
  const std::string id0 = arr[0]["id"], id1 = arr[1]["id"];
  EXPECT_EQ(id0.rfind("call_", 0), 0u);
  EXPECT_EQ(id0.size(), 5u + 24u);
  EXPECT_NE(id0, id1);
  EXPECT_EQ(arr[1]["index"], 1);
  EXPECT_EQ(arr[0]["type"], "function");
  EXPECT_EQ(arr[0]["function"]["name"], "get_weather");
  EXPECT_EQ(arr[0]["function"]["arguments"], R"({"city":"Oslo"})");

  auto first = nlohmann::json::parse(tool_call_delta_json({1, "now", ""}, std::string("call_x")));
  EXPECT_EQ(first[0]["id"], "call_x");
  EXPECT_EQ(first[0]["index"], 1);
  EXPECT_EQ(first[0]["function"]["name"], "now");
  EXPECT_EQ(first[0]["function"]["arguments"], "");
  auto more = nlohmann::json::parse(tool_call_delta_json({1, "", "{\"a\""}, std::nullopt));
  EXPECT_TRUE(more[0]["id"].is_null());
  EXPECT_TRUE(more[0]["function"]["name"].is_null());
  EXPECT_EQ(more[0]["function"]["arguments"], "{\"a\"");
}

}  // namespace
}  // namespace sgl::server
