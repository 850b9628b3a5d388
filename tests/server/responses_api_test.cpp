// The Responses API's pure parts: request parsing, the conversation built from input items and a
// previous response, the chat body it runs as, the response object, stream events and the store.
#include "server/protocol/responses_api.h"

#include <gtest/gtest.h>

#include "server/protocol/api_error.h"
#include "server/protocol/openai_request.h"

namespace sgl::server {
namespace {

RJson events_json(const std::vector<std::string>& events) {
  RJson out = RJson::array();
  for (const auto& e : events) {
    // "event: <type>\ndata: <json>\n\n"
    auto nl = e.find('\n');
    EXPECT_EQ(e.substr(0, 7), "event: ");
    std::string type = e.substr(7, nl - 7);
    EXPECT_EQ(e.substr(nl + 1, 6), "data: ");
    EXPECT_TRUE(e.ends_with("\n\n"));
    RJson j = RJson::parse(e.substr(nl + 7, e.size() - nl - 9));
    EXPECT_EQ(j["type"], type);
    out.push_back(j);
  }
  return out;
}

TEST(ResponsesRequest, ParsesFieldsAndDefaults) {
  auto r = parse_responses_request(R"({"model":"m","input":"hi"})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->model, "m");
  EXPECT_TRUE(r->store);
  EXPECT_FALSE(r->stream);
  EXPECT_TRUE(r->parallel_tool_calls);
  EXPECT_EQ(r->tool_choice, "auto");
  r = parse_responses_request(
      R"({"model":"m","input":[{"role":"user","content":"x"}],"instructions":"be brief","max_output_tokens":7,
          "temperature":0,"top_p":0.5,"store":false,"stream":true,"metadata":{"k":"v"},"user":"u",
          "previous_response_id":"resp_1","tools":[{"type":"function","name":"f","parameters":{}}],
          "tool_choice":{"type":"function","name":"f"},"parallel_tool_calls":false})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r->instructions, "be brief");
  EXPECT_EQ(*r->max_output_tokens, 7);
  EXPECT_EQ(*r->temperature, 0.0);
  EXPECT_EQ(*r->top_p, 0.5);
  EXPECT_FALSE(r->store);
  EXPECT_TRUE(r->stream);
  EXPECT_EQ(r->metadata["k"], "v");
  EXPECT_EQ(*r->previous_response_id, "resp_1");
  EXPECT_FALSE(r->parallel_tool_calls);
}

TEST(ResponsesRequest, RejectsBadBodies) {
  for (const char* body : {
           R"({"model":"m"})",                                          // input required
           R"({"input":5})",                                            // input type
           R"({"input":"x","max_output_tokens":"3"})",                  // type
           R"({"input":"x","max_output_tokens":0})",                    // range
           R"({"input":"x","tools":[{"type":"web_search_preview"}]})",  // non-function tool
           R"({"input":"x","tools":[{"type":"function"}]})",            // no name
           R"({"input":"x","tool_choice":"sometimes"})",                // bad choice
           R"({"input":"x","store":"yes"})",                            // type
           R"(not json)",
       }) {
    auto r = parse_responses_request(body);
    EXPECT_FALSE(r.ok()) << body;
    if (!r.ok()) {
      EXPECT_EQ(http_status_of(r.error()), 400) << body;
    }
  }
}

TEST(ResponsesRequest, IncludeTakesSglangsValuesAndLogprobsReachTheChatBody) {
  auto r = parse_responses_request(
      R"({"input":"x","include":["reasoning.encrypted_content","message.output_text.logprobs"],"top_logprobs":3})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->wants_output_logprobs());
  RJson body = RJson::parse(chat_body(*r, RJson::array(), "resp_x"));
  EXPECT_EQ(body["logprobs"], true);
  EXPECT_EQ(body["top_logprobs"], 3);
  r = parse_responses_request(R"({"input":"x","include":["file_search_call.results"]})");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->wants_output_logprobs());
  EXPECT_FALSE(RJson::parse(chat_body(*r, RJson::array(), "resp_x")).contains("logprobs"));
  for (const char* body :
       {R"({"input":"x","include":["web_search_call.action.sources"]})",
        R"({"input":"x","include":"message.output_text.logprobs"})", R"({"input":"x","include":[3]})",
        R"({"input":"x","top_logprobs":21})", R"({"input":"x","top_logprobs":"2"})"}) {
    auto bad = parse_responses_request(body);
    ASSERT_FALSE(bad.ok()) << body;
    EXPECT_EQ(http_status_of(bad.error()), 400) << body;
  }
  auto bad = parse_responses_request(R"({"input":"x","include":["message.output_text.logprobs","nope"]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("include[1]"), std::string::npos) << bad.error().message;
  // The entries land in the message's output_text part only.
  RJson output = RJson::array(
      {{{"type", "reasoning"}, {"content", RJson::array()}},
       {{"type", "message"}, {"content", RJson::array({{{"type", "output_text"}, {"text", "a"}}})}}});
  attach_output_logprobs(output, RJson::array({{{"token", "a"}, {"logprob", -0.5}}}));
  EXPECT_FALSE(output[0].contains("logprobs"));
  EXPECT_EQ(output[1]["content"][0]["logprobs"][0]["token"], "a");
}

TEST(ResponsesInput, StringAndMessageItems) {
  auto m = input_messages("hello");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, RJson::parse(R"([{"role":"user","content":"hello"}])"));
  m = input_messages(RJson::parse(R"([
      {"role":"developer","content":"sys"},
      {"type":"message","role":"user","content":[{"type":"input_text","text":"a"},{"type":"input_text","text":"b"}]},
      {"type":"message","role":"assistant","id":"msg_1","status":"completed",
       "content":[{"type":"output_text","text":"c","annotations":[]}]},
      {"type":"reasoning","id":"rs_1","summary":[]}])"));
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(*m, RJson::parse(R"([{"role":"system","content":"sys"},{"role":"user","content":"ab"},
                                 {"role":"assistant","content":"c"}])"));
}

TEST(ResponsesInput, FunctionCallRoundTrip) {
  auto m = input_messages(RJson::parse(R"([
      {"role":"user","content":"weather?"},
      {"type":"function_call","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"SF\"}"},
      {"type":"function_call","call_id":"call_2","name":"now","arguments":"{}"},
      {"type":"function_call_output","call_id":"call_1","output":"sunny"},
      {"type":"function_call_output","call_id":"call_2","output":"noon"}])"));
  ASSERT_TRUE(m.ok()) << m.error().message;
  ASSERT_EQ(m->size(), 4u);
  EXPECT_EQ((*m)[1]["role"], "assistant");
  ASSERT_EQ((*m)[1]["tool_calls"].size(), 2u);
  EXPECT_EQ((*m)[1]["tool_calls"][0]["id"], "call_1");
  EXPECT_EQ((*m)[1]["tool_calls"][0]["function"]["name"], "get_weather");
  EXPECT_EQ((*m)[1]["tool_calls"][0]["function"]["arguments"], "{\"city\":\"SF\"}");
  EXPECT_EQ((*m)[2], RJson::parse(R"({"role":"tool","tool_call_id":"call_1","content":"sunny"})"));
  EXPECT_EQ((*m)[3]["tool_call_id"], "call_2");
}

TEST(ResponsesInput, RejectsUnknownItems) {
  EXPECT_FALSE(input_messages(RJson::parse(R"([{"type":"item_reference","id":"x"}])")).ok());
  EXPECT_FALSE(input_messages(RJson::parse(R"([{"role":"wizard","content":"x"}])")).ok());
  EXPECT_FALSE(input_messages(RJson::parse(R"([{"type":"function_call","name":"f"}])")).ok());
  EXPECT_FALSE(input_messages(RJson::parse(R"([{"role":"user","content":[{"type":"input_image"}]}])")).ok());
  EXPECT_FALSE(input_messages(RJson::parse(R"([5])")).ok());
}

TEST(ResponsesInput, OutputItemsBecomeAssistantMessages) {
  RJson out = RJson::parse(R"([
      {"type":"reasoning","id":"rs_1","summary":[],"content":[{"type":"reasoning_text","text":"hmm"}]},
      {"type":"message","id":"msg_1","role":"assistant","status":"completed",
       "content":[{"type":"output_text","text":"Let me check.","annotations":[]}]},
      {"type":"function_call","id":"fc_1","call_id":"call_9","name":"now","arguments":"{}","status":"completed"}])");
  RJson m = output_messages(out);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0]["role"], "assistant");
  EXPECT_EQ(m[0]["content"], "Let me check.");
  EXPECT_EQ(m[0]["tool_calls"][0]["id"], "call_9");
}

TEST(ResponsesChatBody, MapsToolsAndSampling) {
  auto r = parse_responses_request(
      R"({"model":"m","input":"x","max_output_tokens":9,"temperature":0.2,"top_p":0.9,
          "tools":[{"type":"function","name":"f","description":"d","parameters":{"type":"object"}}],
          "tool_choice":{"type":"function","name":"f"}})");
  ASSERT_TRUE(r.ok());
  RJson messages = RJson::parse(R"([{"role":"user","content":"x"}])");
  RJson body = RJson::parse(chat_body(*r, messages, "resp_abc"));
  EXPECT_EQ(body["max_completion_tokens"], 9);
  EXPECT_EQ(body["rid"], "resp_abc");
  EXPECT_EQ(body["tools"][0], RJson::parse(R"({"type":"function","function":{"name":"f","description":"d",
                                                "parameters":{"type":"object"}}})"));
  EXPECT_EQ(body["tool_choice"], RJson::parse(R"({"type":"function","function":{"name":"f"}})"));
  // The body is a valid chat request.
  auto chat = parse_chat_request(body.dump(), RequestLimits{});
  ASSERT_TRUE(chat.ok()) << chat.error().message;
  EXPECT_EQ(chat->items[0].rid, "resp_abc");
  EXPECT_EQ(chat->items[0].sampling.max_new_tokens, 9);
  EXPECT_TRUE(chat->tools_json.has_value());
}

TEST(ResponsesObject, FieldsAndUsage) {
  auto r = parse_responses_request(R"({"model":"m","input":"x","instructions":"i","metadata":{"a":"b"}})");
  ASSERT_TRUE(r.ok());
  ChatMessageParts parts{"thinking", "Hello", {{"now", "{}"}}};
  RJson out = output_items(parts);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0]["type"], "reasoning");
  EXPECT_TRUE(out[0]["id"].get<std::string>().starts_with("rs_"));
  EXPECT_EQ(out[0]["content"][0], RJson::parse(R"({"type":"reasoning_text","text":"thinking"})"));
  EXPECT_EQ(out[0]["summary"], RJson::array());
  EXPECT_EQ(out[1]["type"], "message");
  EXPECT_TRUE(out[1]["id"].get<std::string>().starts_with("msg_"));
  EXPECT_EQ(out[1]["role"], "assistant");
  EXPECT_EQ(out[1]["status"], "completed");
  EXPECT_EQ(out[1]["content"][0]["type"], "output_text");
  EXPECT_EQ(out[1]["content"][0]["text"], "Hello");
  EXPECT_EQ(out[1]["content"][0]["annotations"], RJson::array());
  EXPECT_EQ(out[2]["type"], "function_call");
  EXPECT_TRUE(out[2]["id"].get<std::string>().starts_with("fc_"));
  EXPECT_TRUE(out[2]["call_id"].get<std::string>().starts_with("call_"));
  EXPECT_EQ(out[2]["name"], "now");
  EXPECT_EQ(out[2]["arguments"], "{}");
  EXPECT_EQ(output_text(out), "Hello");

  RJson resp = response_object(*r, "resp_1", 123, "completed", out, ResponseUsage{10, 5, 2, 3});
  EXPECT_EQ(resp["id"], "resp_1");
  EXPECT_EQ(resp["object"], "response");
  EXPECT_EQ(resp["created_at"], 123);
  EXPECT_EQ(resp["status"], "completed");
  EXPECT_EQ(resp["instructions"], "i");
  EXPECT_EQ(resp["metadata"]["a"], "b");
  EXPECT_TRUE(resp["incomplete_details"].is_null());
  EXPECT_TRUE(resp["previous_response_id"].is_null());
  EXPECT_TRUE(resp["max_output_tokens"].is_null());
  EXPECT_EQ(resp["store"], true);
  EXPECT_EQ(resp["tool_choice"], "auto");
  EXPECT_EQ(resp["tools"], RJson::array());
  EXPECT_EQ(resp["usage"], RJson::parse(R"({"input_tokens":10,"input_tokens_details":{"cached_tokens":2},
      "output_tokens":5,"output_tokens_details":{"reasoning_tokens":3},"total_tokens":15})"));
  RJson inc =
      response_object(*r, "resp_1", 1, "incomplete", RJson::array(), std::nullopt, "max_output_tokens");
  EXPECT_EQ(inc["incomplete_details"]["reason"], "max_output_tokens");
  EXPECT_TRUE(inc["usage"].is_null());
}

TEST(ResponsesStream, TextEventOrder) {
  ResponseStreamState st;
  std::vector<std::string> all;
  auto add = [&](std::vector<std::string> v) { all.insert(all.end(), v.begin(), v.end()); };
  add({st.event("response.created", {{"response", {{"id", "resp_1"}}}})});
  add(st.feed({"", "Hel", {}}));
  add(st.feed({"", "lo", {}}));
  add(st.close());
  RJson ev = events_json(all);
  std::vector<std::string> types;
  for (size_t i = 0; i < ev.size(); ++i) {
    types.push_back(ev[i]["type"]);
    EXPECT_EQ(ev[i]["sequence_number"], i);
  }
  EXPECT_EQ(types, (std::vector<std::string>{"response.created", "response.output_item.added",
                                             "response.content_part.added", "response.output_text.delta",
                                             "response.output_text.delta", "response.output_text.done",
                                             "response.content_part.done", "response.output_item.done"}));
  EXPECT_EQ(ev[1]["item"]["status"], "in_progress");
  EXPECT_EQ(ev[1]["item"]["content"], RJson::array());
  std::string item_id = ev[1]["item"]["id"];
  EXPECT_EQ(ev[3]["item_id"], item_id);
  EXPECT_EQ(ev[3]["delta"], "Hel");
  EXPECT_EQ(ev[5]["text"], "Hello");
  EXPECT_EQ(ev[6]["part"]["text"], "Hello");
  EXPECT_EQ(ev[7]["item"]["content"][0]["text"], "Hello");
  EXPECT_EQ(st.output().size(), 1u);
  EXPECT_EQ(st.output()[0], ev[7]["item"]);
}

TEST(ResponsesStream, ReasoningThenTextThenCalls) {
  ResponseStreamState st;
  std::vector<std::string> all;
  auto add = [&](std::vector<std::string> v) { all.insert(all.end(), v.begin(), v.end()); };
  add(st.feed({"think", "", {}}));
  add(st.feed({"", "Let me check.", {}}));
  add(st.feed({"", "", {{0, "get_weather", ""}}}));
  add(st.feed({"", "", {{0, "", "{\"city\":"}, {0, "", "\"SF\"}"}}}));
  add(st.feed({"", "", {{1, "now", "{}"}}}));
  add(st.close());
  RJson ev = events_json(all);
  std::vector<std::string> types;
  for (const auto& e : ev) types.push_back(e["type"]);
  EXPECT_EQ(types, (std::vector<std::string>{"response.output_item.added",
                                             "response.content_part.added",
                                             "response.reasoning_text.delta",
                                             "response.reasoning_text.done",
                                             "response.content_part.done",
                                             "response.output_item.done",
                                             "response.output_item.added",
                                             "response.content_part.added",
                                             "response.output_text.delta",
                                             "response.output_text.done",
                                             "response.content_part.done",
                                             "response.output_item.done",
                                             "response.output_item.added",
                                             "response.function_call_arguments.delta",
                                             "response.function_call_arguments.delta",
                                             "response.function_call_arguments.done",
                                             "response.output_item.done",
                                             "response.output_item.added",
                                             "response.function_call_arguments.delta",
                                             "response.function_call_arguments.done",
                                             "response.output_item.done"}));
  const RJson& out = st.output();
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[2]["name"], "get_weather");
  EXPECT_EQ(out[2]["arguments"], "{\"city\":\"SF\"}");
  EXPECT_EQ(ev[15]["arguments"], "{\"city\":\"SF\"}");
  EXPECT_EQ(ev[15]["output_index"], 2);
  EXPECT_EQ(out[3]["name"], "now");
  EXPECT_NE(out[2]["call_id"], out[3]["call_id"]);
  // The streamed output equals what the whole answer gives (ids aside).
  RJson whole =
      output_items({"think", "Let me check.", {{"get_weather", "{\"city\":\"SF\"}"}, {"now", "{}"}}});
  ASSERT_EQ(whole.size(), out.size());
  for (size_t i = 0; i < out.size(); ++i) {
    RJson a = out[i], b = whole[i];
    for (const char* k : {"id", "call_id"}) {
      a.erase(k);
      b.erase(k);
    }
    EXPECT_EQ(a, b) << i;
  }
}

TEST(ResponseStore, BoundedGetErase) {
  ResponseStore s(2);
  s.put("a", {RJson{{"id", "a"}}, RJson::array()});
  s.put("b", {RJson{{"id", "b"}}, RJson::array()});
  s.put("c", {RJson{{"id", "c"}}, RJson::array()});
  EXPECT_EQ(s.size(), 2u);
  EXPECT_FALSE(s.get("a"));  // oldest evicted
  ASSERT_TRUE(s.get("c"));
  EXPECT_EQ(s.get("c")->response["id"], "c");
  EXPECT_TRUE(s.erase("b"));
  EXPECT_FALSE(s.erase("b"));
  EXPECT_EQ(s.size(), 1u);
}

TEST(ResponsesError, Shape) {
  RJson e = RJson::parse(responses_error_body(404, "Response with id 'x' not found.", "response_id"));
  EXPECT_EQ(e, RJson::parse(R"({"object":"error","message":"Response with id 'x' not found.",
                               "type":"invalid_request_error","param":"response_id","code":404})"));
}

}  // namespace
}  // namespace sgl::server
