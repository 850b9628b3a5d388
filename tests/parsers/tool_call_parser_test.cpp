#include "server/parsers/tool_call_parser.h"

#include <gtest/gtest.h>

#include "chunking.h"

namespace sgl::server {
namespace {

std::vector<ToolSchema> weather_tools() {
  auto tools = parse_tools_json(R"([
    {"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{
      "city":{"type":"string"},"days":{"type":"integer"},"celsius":{"type":"boolean"},
      "ratio":{"type":"number"},"tags":{"type":"array"},"opts":{"type":"object"},"note":{"type":"string"}}}}},
    {"type":"function","function":{"name":"execute_bash","parameters":{"type":"object","properties":{
      "command":{"type":"string"},"timeout":{"type":"integer"}}}}},
    {"type":"function","function":{"name":"now"}}
  ])");
  EXPECT_TRUE(tools.ok());
  return tools.ok() ? *tools : std::vector<ToolSchema>{};
}

ParsedToolCalls parse_whole(std::string_view parser, std::string_view text) {
  auto p = make_tool_call_parser(parser, weather_tools());
  EXPECT_TRUE(p.ok());
  return parse_tool_calls(**p, text);
}

// Every cut of the text must give what the whole text gives.
void expect_stream_equals_whole(std::string_view parser, std::string_view text) {
  ParsedToolCalls whole = parse_whole(parser, text);
  for (const auto& cut : testing::cuts_of(text)) {
    auto p = make_tool_call_parser(parser, weather_tools());
    ASSERT_TRUE(p.ok());
    ParsedToolCalls streamed;
    int last_index = -1;
    for (const auto& piece : cut) {
      ToolParseResult r = (*p)->feed(piece);
      for (const auto& item : r.calls) {
        EXPECT_GE(item.index, last_index) << "indices go forward";
        if (item.index > last_index) {
          EXPECT_FALSE(item.name.empty()) << "a call starts with its name";
        }
        last_index = item.index;
      }
      merge_tool_items(r, streamed);
    }
    merge_tool_items((*p)->finish(), streamed);
    ASSERT_EQ(streamed.content, whole.content) << "cut into " << cut.size() << " pieces";
    ASSERT_EQ(streamed.calls.size(), whole.calls.size());
    for (size_t i = 0; i < whole.calls.size(); ++i) {
      EXPECT_EQ(streamed.calls[i].name, whole.calls[i].name);
      EXPECT_EQ(streamed.calls[i].arguments, whole.calls[i].arguments);
    }
  }
}

TEST(Qwen3CoderParser, SingleCallWithMultilineStringAndInteger) {
  std::string text =
      "Let me check.\n<tool_call>\n<function=execute_bash>\n<parameter=command>\ncd /tmp && ls -la\n"
      "echo \"done\"\n</parameter>\n<parameter=timeout>\n30\n</parameter>\n</function>\n</tool_call>";
  auto r = parse_whole("qwen3_coder", text);
  EXPECT_EQ(r.content, "Let me check.");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].name, "execute_bash");
  EXPECT_EQ(r.calls[0].arguments, R"({"command": "cd /tmp && ls -la\necho \"done\"", "timeout": 30})");
  expect_stream_equals_whole("qwen3_coder", text);
}

TEST(Qwen3CoderParser, EverySchemaType) {
  std::string text =
      "<tool_call>\n<function=get_weather>\n<parameter=city>\n03106\n</parameter>\n"
      "<parameter=days>\n7\n</parameter>\n<parameter=celsius>\nTrue\n</parameter>\n"
      "<parameter=ratio>\n2.5\n</parameter>\n<parameter=tags>\n[\"a\", 1]\n</parameter>\n"
      "<parameter=opts>\n{\"x\": {\"y\": null}}\n</parameter>\n<parameter=note>\nnull\n</parameter>\n"
      "<parameter=extra>\n42\n</parameter>\n</function>\n</tool_call>";
  auto r = parse_whole("qwen3_coder", text);
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].arguments,
            R"({"city": "03106", "days": 7, "celsius": true, "ratio": 2.5, "tags": ["a", 1], )"
            R"("opts": {"x": {"y": null}}, "note": null, "extra": "42"})");
  EXPECT_EQ(r.content, "");
  expect_stream_equals_whole("qwen3_coder", text);
}

TEST(Qwen3CoderParser, BadTypedValuesFallBackToStrings) {
  std::string text =
      "<tool_call>\n<function=get_weather>\n<parameter=days>\nseven\n</parameter>\n"
      "<parameter=ratio>\n1e3x\n</parameter>\n<parameter=opts>\n{broken\n</parameter>\n"
      "</function>\n</tool_call>";
  auto r = parse_whole("qwen3_coder", text);
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].arguments, R"({"days": "seven", "ratio": "1e3x", "opts": "{broken"})");
}

TEST(Qwen3CoderParser, ValuesWithAnglesQuotesAndParallelCalls) {
  std::string text =
      "I'll run two things.\n\n<tool_call>\n<function=execute_bash>\n<parameter=command>\n"
      "if [ $a < 3 ] && echo '<b>' > out.html; then echo \"x\"; fi\n</parameter>\n</function>\n"
      "</tool_call>\n<tool_call>\n<function=get_weather>\n<parameter=city>\nSão Paulo\n"
      "</parameter>\n</function>\n</tool_call>\nDone.";
  auto r = parse_whole("qwen3_coder", text);
  ASSERT_EQ(r.calls.size(), 2u);
  EXPECT_EQ(r.calls[0].name, "execute_bash");
  EXPECT_EQ(r.calls[0].arguments,
            R"({"command": "if [ $a < 3 ] && echo '<b>' > out.html; then echo \"x\"; fi"})");
  EXPECT_EQ(r.calls[1].name, "get_weather");
  EXPECT_EQ(r.calls[1].arguments, R"({"city": "São Paulo"})");
  EXPECT_EQ(r.content, "I'll run two things.Done.");
  expect_stream_equals_whole("qwen3_coder", text);
}

TEST(Qwen3CoderParser, ZeroParameterCallAndUnterminatedCall) {
  auto r = parse_whole("qwen3_coder", "<tool_call>\n<function=now>\n</function>\n</tool_call>");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].arguments, "{}");
  std::string cut_off = "<tool_call>\n<function=get_weather>\n<parameter=city>\nPar";
  r = parse_whole("qwen3_coder", cut_off);
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].arguments, R"({"city": "Par"})");
  expect_stream_equals_whole("qwen3_coder", cut_off);
}

TEST(Qwen3CoderParser, MalformedBlockIsPlainText) {
  std::string text = "Hi <tool_call>\nnot a function</tool_call> bye";
  auto r = parse_whole("qwen3_coder", text);
  EXPECT_TRUE(r.calls.empty());
  EXPECT_EQ(r.content, text);
  expect_stream_equals_whole("qwen3_coder", text);
  std::string unterminated = "Hi <tool_call>\nhello";
  r = parse_whole("qwen3_coder", unterminated);
  EXPECT_TRUE(r.calls.empty());
  EXPECT_EQ(r.content, unterminated);
  expect_stream_equals_whole("qwen3_coder", unterminated);
}

TEST(Qwen3CoderParser, UnknownFunctionKept) {
  auto r = parse_whole(
      "qwen3_coder",
      "<tool_call>\n<function=mystery>\n<parameter=a>\n1\n</parameter>\n</function>\n</tool_call>");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].name, "mystery");
  EXPECT_EQ(r.calls[0].arguments, R"({"a": "1"})");
}

TEST(Qwen3CoderParser, PlainTextWithAnglesUntouched) {
  std::string text = "a < b and <tool is not a tag; x<tool_cal";
  auto r = parse_whole("qwen3_coder", text);
  EXPECT_TRUE(r.calls.empty());
  EXPECT_EQ(r.content, text);
  expect_stream_equals_whole("qwen3_coder", text);
}

TEST(HermesParser, SingleAndParallelCalls) {
  std::string text =
      "Checking.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": "
      "3}}\n"
      "</tool_call>\n<tool_call>\n{\"name\":\"execute_bash\",\"arguments\":{\"command\":\"echo "
      "'</tool_call>'\"}}\n"
      "</tool_call>";
  for (const char* name : {"hermes", "qwen25"}) {
    auto r = parse_whole(name, text);
    EXPECT_EQ(r.content, "Checking.");
    ASSERT_EQ(r.calls.size(), 2u);
    EXPECT_EQ(r.calls[0].name, "get_weather");
    EXPECT_EQ(r.calls[0].arguments, R"({"city": "Paris", "days": 3})");
    EXPECT_EQ(r.calls[1].name, "execute_bash");
    EXPECT_EQ(r.calls[1].arguments, R"({"command": "echo '</tool_call>'"})");
    expect_stream_equals_whole(name, text);
  }
}

TEST(HermesParser, ArgumentsGivenAsStringOrParametersOrList) {
  auto r = parse_whole("hermes", "<tool_call>{\"name\":\"now\",\"arguments\":\"{\\\"a\\\":1}\"}</tool_call>");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].arguments, R"({"a": 1})");
  r = parse_whole("qwen25",
                  "<tool_call>\n[{\"name\":\"now\",\"parameters\":{}},{\"name\":\"now\"}]\n</tool_call>");
  ASSERT_EQ(r.calls.size(), 2u);
  EXPECT_EQ(r.calls[0].arguments, "{}");
  EXPECT_EQ(r.calls[1].arguments, "{}");
}

TEST(HermesParser, MalformedAndUnterminatedBlocksAreText) {
  for (std::string text : {
           std::string(
               "Hi <tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": }}\n</tool_call> end"),
           std::string("Hi <tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Par"),
           std::string("<tool_call>\n{\"nome\": \"x\"}\n</tool_call>"),
           std::string("<tool_call>\nplain words\n</tool_call>"),
       }) {
    auto r = parse_whole("hermes", text);
    EXPECT_TRUE(r.calls.empty()) << text;
    EXPECT_EQ(r.content, text);
    expect_stream_equals_whole("hermes", text);
  }
}

TEST(HermesParser, TextAfterCallAndStrayEndTag) {
  std::string text = "<tool_call>{\"name\":\"now\",\"arguments\":{}}</tool_call>\n\nThat is all.</tool_call>";
  auto r = parse_whole("hermes", text);
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.content, "That is all.");
  expect_stream_equals_whole("hermes", text);
}

// Long values are searched incrementally (each feed resumes where the last stopped): tag-like
// text deep inside a value, and real tags split across feeds, must still be found exactly.
TEST(ToolCallParser, LongValuesWithTagLikeTextStreamLikeWhole) {
  std::string filler(300, 'x');
  std::string coder = "<tool_call>\n<function=execute_bash>\n<parameter=command>\n" + filler +
                      " </paramete <tool_cal {\"}\" " + filler + "\n</parameter>\n</function>\n</tool_call>";
  auto c = parse_whole("qwen3_coder", coder);
  ASSERT_EQ(c.calls.size(), 1u);
  EXPECT_NE(c.calls[0].arguments.find(" </paramete <tool_cal {\\\"}\\\" "), std::string::npos)
      << c.calls[0].arguments;
  expect_stream_equals_whole("qwen3_coder", coder);
  std::string hermes = "<tool_call>\n{\"name\": \"execute_bash\", \"arguments\": {\"command\": \"" + filler +
                       " </tool_call> } ] \\\" { " + filler + "\"}}\n</tool_call>";
  auto h = parse_whole("hermes", hermes);
  ASSERT_EQ(h.calls.size(), 1u) << h.content;
  EXPECT_NE(h.calls[0].arguments.find(" </tool_call> } ] \\\" { "), std::string::npos)
      << h.calls[0].arguments;
  expect_stream_equals_whole("hermes", hermes);
}

TEST(ToolCallParser, PlainAnswerKeepsEveryByte) {
  std::string text = "  Hello,\n\n world!  \n";
  for (const char* name : {"hermes", "qwen3_coder"}) {
    EXPECT_EQ(parse_whole(name, text).content, text);
    expect_stream_equals_whole(name, text);
  }
}

TEST(ToolCallParser, UnknownParserName) {
  auto p = make_tool_call_parser("pythonic", {});
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("qwen3_coder"), std::string::npos);
}

TEST(ToolSchema, RejectsInvalidTools) {
  EXPECT_FALSE(parse_tools_json("{}").ok());
  EXPECT_FALSE(parse_tools_json(R"([{"type":"function"}])").ok());
  EXPECT_FALSE(parse_tools_json(R"([{"type":"function","function":{"name":""}}])").ok());
  EXPECT_FALSE(parse_tools_json(R"([{"type":"retrieval","function":{"name":"a"}}])").ok());
  EXPECT_FALSE(parse_tools_json(R"([{"type":"function","function":{"name":"a","parameters":3}}])").ok());
  auto ok = parse_tools_json(
      R"([{"type":"function","function":{"name":"a","parameters":{"properties":{"x":{"type":"INTEGER"}}}}}])");
  ASSERT_TRUE(ok.ok());
  ASSERT_NE((*ok)[0].param_type("x"), nullptr);
  EXPECT_EQ(*(*ok)[0].param_type("x"), "integer");
}

}  // namespace
}  // namespace sgl::server
