// The answers serialise in SGLang's layout: meta_info keys and finish reasons, logprob triples,
// OpenAI objects, chunks and usage; invalid UTF-8 and NaN never produce invalid JSON.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "server/protocol/generate_response.h"
#include "server/protocol/openai_response.h"

namespace sgl::server {
namespace {

using nlohmann::json;

GenerateOutput finished_output() {
  GenerateOutput o;
  o.text = " Paris.";
  o.output_ids = {12095, 13};
  o.rid = "de0e9a6d12eb40cabf03c63809d0ea25";
  o.finish.type = FinishReason::Type::kLength;
  o.finish.length = 2;
  o.prompt_tokens = 5;
  o.completion_tokens = 2;
  o.cached_tokens = 1;
  o.e2e_latency = 0.25;
  return o;
}

TEST(GenerateResponse, MetaInfoHasSglangKeysInOrder) {
  std::string s = generate_output_json(finished_output());
  auto j = json::parse(s);
  EXPECT_EQ(j["text"], " Paris.");
  EXPECT_EQ(j["output_ids"], json({12095, 13}));
  const auto& m = j["meta_info"];
  EXPECT_EQ(m["id"], "de0e9a6d12eb40cabf03c63809d0ea25");
  EXPECT_EQ(m["finish_reason"], json({{"type", "length"}, {"length", 2}}));
  EXPECT_EQ(m["prompt_tokens"], 5);
  EXPECT_EQ(m["completion_tokens"], 2);
  EXPECT_EQ(m["cached_tokens"], 1);
  EXPECT_DOUBLE_EQ(m["e2e_latency"].get<double>(), 0.25);
  EXPECT_FALSE(j.contains("index"));
  EXPECT_LT(s.find("\"id\""), s.find("\"finish_reason\""));
  EXPECT_LT(s.find("\"prompt_tokens\""), s.find("\"completion_tokens\""));
  EXPECT_EQ(s.find(": "), std::string::npos);  // compact, as SGLang's JSONResponse
}

TEST(GenerateResponse, StreamingEventHasNullFinishAndNoLatency) {
  GenerateOutput o = finished_output();
  o.finish = {};
  o.e2e_latency.reset();
  o.index = 3;
  auto j = json::parse(generate_output_json(o));
  EXPECT_TRUE(j["meta_info"]["finish_reason"].is_null());
  EXPECT_FALSE(j["meta_info"].contains("e2e_latency"));
  EXPECT_EQ(j["index"], 3);
}

TEST(GenerateResponse, FinishReasonVariants) {
  GenerateOutput o = finished_output();
  o.finish = {};
  o.finish.type = FinishReason::Type::kStopToken;
  o.finish.matched_token = 151645;
  EXPECT_EQ(json::parse(generate_output_json(o))["meta_info"]["finish_reason"],
            json({{"type", "stop"}, {"matched", 151645}}));
  o.finish.type = FinishReason::Type::kStopString;
  o.finish.matched_str = "\n\n";
  EXPECT_EQ(json::parse(generate_output_json(o))["meta_info"]["finish_reason"]["matched"], "\n\n");
  o.finish.type = FinishReason::Type::kAbort;
  o.finish.message = "Abort by user";
  auto abort = json::parse(generate_output_json(o))["meta_info"]["finish_reason"];
  EXPECT_EQ(abort["type"], "abort");
  EXPECT_EQ(abort["message"], "Abort by user");
}

TEST(GenerateResponse, LogprobArraysAreTriplesWithNullsWhereSglangHasThem) {
  GenerateOutput o = finished_output();
  LogprobArrays lp;
  lp.include_input = true;
  lp.include_top = true;
  lp.input_token_logprobs = {{std::nullopt, 1, "a"}, {-0.5f, 2, "b"}};
  lp.output_token_logprobs = {{-0.25f, 12095, " Paris"}, {-1.0f, 13, std::nullopt}};
  lp.input_top_logprobs = {std::nullopt, std::vector<TokenLogprob>{{-0.5f, 2, "b"}}};
  lp.output_top_logprobs = {std::vector<TokenLogprob>{{-0.25f, 12095, " Paris"}, {-2.0f, 7, "x"}},
                            std::nullopt};
  o.logprobs = lp;
  auto m = json::parse(generate_output_json(o))["meta_info"];
  EXPECT_EQ(m["input_token_logprobs"][0], json({nullptr, 1, "a"}));
  EXPECT_EQ(m["output_token_logprobs"][0], json({-0.25, 12095, " Paris"}));
  EXPECT_TRUE(m["output_token_logprobs"][1][2].is_null());
  EXPECT_TRUE(m["input_top_logprobs"][0].is_null());
  EXPECT_EQ(m["output_top_logprobs"][0].size(), 2u);
  EXPECT_TRUE(m["output_top_logprobs"][1].is_null());
}

TEST(GenerateResponse, OutputOnlyLogprobsOmitInputKeys) {
  GenerateOutput o = finished_output();
  o.logprobs = LogprobArrays{};
  o.logprobs->output_token_logprobs = {{-0.1f, 5, "x"}};
  auto m = json::parse(generate_output_json(o))["meta_info"];
  EXPECT_TRUE(m.contains("output_token_logprobs"));
  EXPECT_FALSE(m.contains("input_token_logprobs"));
  EXPECT_FALSE(m.contains("output_top_logprobs"));
}

TEST(GenerateResponse, InvalidUtf8AndNanStillGiveValidJson) {
  GenerateOutput o = finished_output();
  o.text = std::string("ab\xE4\xBD", 4);  // a cut multi-byte sequence
  o.logprobs = LogprobArrays{};
  o.logprobs->output_token_logprobs = {{std::nanf(""), 5, std::string("\xFF", 1)}};
  std::string s = generate_output_json(o);
  json j;
  ASSERT_NO_THROW(j = json::parse(s)) << s;
  EXPECT_EQ(j["text"].get<std::string>().substr(0, 2), "ab");
  EXPECT_TRUE(j["meta_info"]["output_token_logprobs"][0][0].is_null());
}

TEST(GenerateResponse, BatchIsAListInOrder) {
  GenerateOutput a = finished_output(), b = finished_output();
  b.rid = "other";
  auto j = json::parse(generate_outputs_json({a, b}));
  ASSERT_TRUE(j.is_array());
  EXPECT_EQ(j[1]["meta_info"]["id"], "other");
}

// The stream's direct writer must be byte-identical to the DOM writer on the cut copy, in every
// shape an event takes: unfinished / each finish reason, latency, batch index, escapes, offsets,
// invalid UTF-8 and logprobs (the two fall back to the DOM).
TEST(GenerateResponse, EventWriterMatchesTheDomWriterOnTheCutCopy) {
  std::vector<GenerateOutput> shapes;
  GenerateOutput o = finished_output();
  o.text = "line\n\"quoted\" tab\t back\\slash \x01 ctrl \xC3\xA9t\xC3\xA9 \xF0\x9F\x98\x80";
  o.output_ids = {1, 22, 333, 4444, 55555, 151645, 0};
  shapes.push_back(o);
  o.finish = {};
  o.e2e_latency.reset();
  shapes.push_back(o);  // mid-stream
  for (auto type :
       {FinishReason::Type::kStopToken, FinishReason::Type::kStopString, FinishReason::Type::kAbort}) {
    GenerateOutput f = finished_output();
    f.finish.type = type;
    f.finish.matched_token = 151645;
    f.finish.matched_str = "</s>\n";
    f.finish.message = "Abort \"by\" user";
    f.finish.status_code = 400;
    f.e2e_latency = 1.0 / 3.0;
    shapes.push_back(f);
  }
  GenerateOutput bad = finished_output();
  bad.text = std::string("ab\xE4\xBD", 4);
  shapes.push_back(bad);
  GenerateOutput rid = finished_output();
  rid.rid = std::string("r\xFF", 2);
  shapes.push_back(rid);
  GenerateOutput lp = finished_output();
  lp.logprobs = LogprobArrays{};
  lp.logprobs->output_token_logprobs = {{-0.1f, 12095, " Paris"}, {-0.2f, 13, "."}};
  shapes.push_back(lp);
  GenerateOutput empty;
  shapes.push_back(empty);

  for (const auto& shape : shapes) {
    for (size_t text_from : {size_t{0}, size_t{3}, shape.text.size(), shape.text.size() + 5}) {
      for (size_t ids_from : {size_t{0}, size_t{1}, shape.output_ids.size()}) {
        for (std::optional<size_t> index : {std::optional<size_t>{}, std::optional<size_t>{7}}) {
          GenerateOutput cut = shape;
          cut.text.erase(0, std::min(text_from, cut.text.size()));
          cut.output_ids.erase(cut.output_ids.begin(),
                               cut.output_ids.begin() + long(std::min(ids_from, cut.output_ids.size())));
          cut.index = index;
          EXPECT_EQ(generate_event_json(shape, text_from, ids_from, index), generate_output_json(cut))
              << "text_from=" << text_from << " ids_from=" << ids_from;
        }
      }
    }
  }
}

// A stream's cached cumulative writer equals the one-shot writer at every event: growing text
// with escapes and multi-byte characters, a finish that trims the text (stop string), and a
// finish that leaves a cut UTF-8 sequence.
TEST(GenerateResponse, CumulativeEventWriterEqualsTheOneShotWriterAtEveryEvent) {
  const std::vector<std::string> pieces = {"Hi", " \"there\"",        "\n", "\xC3\xA9", "\t\\",
                                           "",   " \xF0\x9F\x98\x80", "!"};
  for (int ending = 0; ending < 3; ++ending) {
    GenerateEventWriter writer;
    GenerateOutput o;
    o.rid = "abc";
    o.prompt_tokens = 4;
    for (size_t i = 0; i < pieces.size(); ++i) {
      o.text += pieces[i];
      o.output_ids.push_back(static_cast<int32_t>(100 + i * 37));
      o.completion_tokens = static_cast<int64_t>(i + 1);
      const auto index = i % 2 ? std::optional<size_t>(2) : std::nullopt;
      EXPECT_EQ(writer.cumulative(o, index), generate_event_json(o, 0, 0, index)) << "event " << i;
    }
    o.finish.type = FinishReason::Type::kStopString;
    o.finish.matched_str = "!";
    o.e2e_latency = 0.5;
    if (ending == 1) o.text.resize(o.text.size() - 1);      // the stop string trimmed
    if (ending == 2) o.text += std::string("\xE4\xBD", 2);  // a cut sequence at the finish
    EXPECT_EQ(writer.cumulative(o, std::nullopt), generate_event_json(o, 0, 0, std::nullopt)) << ending;
    EXPECT_NO_THROW((void)json::parse(writer.cumulative(o, std::nullopt)));
  }
}

ResponseHead head() { return {"0123456789abcdef0123456789abcdef", 1700000000, "tiny"}; }

TEST(OpenAiResponse, CompletionObjectAndUsage) {
  CompletionChoice c;
  c.index = 0;
  c.text = "hello";
  c.finish.type = FinishReason::Type::kStopToken;
  c.finish.matched_token = 151643;
  CompletionLogprobs lp;
  lp.tokens = {"hel", "lo"};
  lp.token_logprobs = {-0.5f, std::nullopt};
  lp.top_logprobs = {std::vector<TopEntry>{{"hel", -0.5f}, {"he", -1.5f}}, std::nullopt};
  c.logprobs = lp;
  Usage u{5, 2, 3, true};
  auto j = json::parse(completion_response_json(head(), {c}, u));
  EXPECT_EQ(j["object"], "text_completion");
  EXPECT_EQ(j["id"], head().id);
  EXPECT_EQ(j["created"], 1700000000);
  EXPECT_EQ(j["model"], "tiny");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(j["choices"][0]["matched_stop"], 151643);
  EXPECT_EQ(j["choices"][0]["logprobs"]["tokens"], json({"hel", "lo"}));
  EXPECT_EQ(j["choices"][0]["logprobs"]["text_offset"], json({-1, -1}));
  EXPECT_DOUBLE_EQ(j["choices"][0]["logprobs"]["top_logprobs"][0]["he"].get<double>(), -1.5);
  EXPECT_EQ(j["usage"]["total_tokens"], 7);
  EXPECT_EQ(j["usage"]["prompt_tokens_details"]["cached_tokens"], 3);
  Usage no_report{5, 2, 3, false};
  EXPECT_TRUE(json::parse(completion_response_json(head(), {c}, no_report))["usage"]["prompt_tokens_details"]
                  .is_null());
}

TEST(OpenAiResponse, ChatObjectWithNullEmptyContent) {
  ChatChoice c;
  c.content = "";
  c.finish.type = FinishReason::Type::kLength;
  c.finish.length = 16;
  auto j = json::parse(chat_response_json(head(), {c}, Usage{3, 16, 0, false}));
  EXPECT_EQ(j["object"], "chat.completion");
  const auto& msg = j["choices"][0]["message"];
  EXPECT_EQ(msg["role"], "assistant");
  EXPECT_TRUE(msg["content"].is_null());
  EXPECT_TRUE(msg["reasoning_content"].is_null());
  EXPECT_TRUE(msg["tool_calls"].is_null());
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  EXPECT_TRUE(j["choices"][0]["matched_stop"].is_null());
}

TEST(OpenAiResponse, ChatToolCallsAndLogprobs) {
  ChatChoice c;
  c.content = "x";
  c.tool_calls_json =
      R"([{"id":"call_1","index":0,"type":"function","function":{"name":"f","arguments":"{}"}}])";
  c.finished_by_tool_calls = true;
  c.finish.type = FinishReason::Type::kStopToken;
  c.logprobs = std::vector<ChatTokenLogprob>{{"é", -0.5f, {{"é", -0.5f}, {"e", -1.0f}}}};
  auto j = json::parse(chat_response_json(head(), {c}, Usage{}));
  EXPECT_EQ(j["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_TRUE(j["choices"][0]["matched_stop"].is_null());
  EXPECT_EQ(j["choices"][0]["message"]["tool_calls"][0]["function"]["name"], "f");
  const auto& lp = j["choices"][0]["logprobs"]["content"][0];
  EXPECT_EQ(lp["bytes"], json({0xC3, 0xA9}));
  EXPECT_EQ(lp["top_logprobs"].size(), 2u);
  EXPECT_EQ(lp["top_logprobs"][1]["token"], "e");
}

TEST(OpenAiResponse, ChatChunksCarryDeltaWithNulls) {
  ChatChoice first;
  first.role = "assistant";
  first.content = "";
  auto j = json::parse(chat_chunk_json(head(), first));
  EXPECT_EQ(j["object"], "chat.completion.chunk");
  EXPECT_EQ(j["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(j["choices"][0]["delta"]["content"], "");
  EXPECT_TRUE(j["choices"][0]["delta"].contains("reasoning_content"));
  EXPECT_TRUE(j["choices"][0]["finish_reason"].is_null());
  EXPECT_TRUE(j["usage"].is_null());
  ChatChoice last;
  last.index = 1;
  last.finish.type = FinishReason::Type::kStopString;
  last.finish.matched_str = "END";
  auto k = json::parse(chat_chunk_json(head(), last));
  EXPECT_EQ(k["choices"][0]["index"], 1);
  EXPECT_EQ(k["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(k["choices"][0]["matched_stop"], "END");
  EXPECT_TRUE(k["choices"][0]["delta"]["content"].is_null());
}

TEST(OpenAiResponse, UsageChunkHasEmptyChoices) {
  auto j = json::parse(usage_chunk_json(head(), "chat.completion.chunk", Usage{4, 6, 0, false}));
  EXPECT_EQ(j["choices"], json::array());
  EXPECT_EQ(j["usage"]["completion_tokens"], 6);
  EXPECT_EQ(j["usage"]["total_tokens"], 10);
  CompletionChoice c;
  c.text = "de";
  auto chunk = json::parse(completion_chunk_json(head(), c));
  EXPECT_EQ(chunk["choices"][0]["text"], "de");
  EXPECT_TRUE(chunk["usage"].is_null());
}

}  // namespace
}  // namespace sgl::server
