// Good requests parse into the values SGLang would use (defaults, mapping of OpenAI names,
// batch and n expansion, rids), and the chat template context carries what the template needs.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "server/protocol/generate_request.h"
#include "server/protocol/openai_request.h"
#include "server/protocol/request_id.h"

namespace sgl::server {
namespace {

RequestLimits limits() { return {.context_length = 4096, .vocab_size = 1000}; }

TEST(GenerateRequestParse, SinglePromptGetsSglangDefaults) {
  auto r = parse_generate_request(R"({"text":"def main():"})", limits());
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->prompts.size(), 1u);
  EXPECT_EQ(r->prompts[0].text, "def main():");
  EXPECT_FALSE(r->list_response);
  ASSERT_EQ(r->items.size(), 1u);
  const auto& it = r->items[0];
  EXPECT_EQ(it.rid.size(), 32u);
  EXPECT_EQ(it.sampling.max_new_tokens.value_or(-1), 128);
  EXPECT_DOUBLE_EQ(it.sampling.temperature, 1.0);
  EXPECT_EQ(it.sampling.top_k, -1);
  EXPECT_TRUE(it.sampling.skip_special_tokens);
  EXPECT_FALSE(it.logprob.return_logprob);
  EXPECT_EQ(it.logprob.logprob_start_len, -1);
  EXPECT_TRUE(it.logprob.return_text_in_logprobs);
}

TEST(GenerateRequestParse, SamplingFieldsAndNullsAsBenchOneBatchSendsThem) {
  auto r = parse_generate_request(
      R"({"input_ids":[[1,2,3],[4,5]],"stream":true,"return_logprob":true,"top_logprobs_num":2,
          "sampling_params":{"temperature":0,"max_new_tokens":16,"ignore_eos":true,"json_schema":null,
                             "stream_interval":4,"stop":"\n","stop_token_ids":[7],"top_p":0.9,"top_k":20,
                             "sampling_seed":11,"logit_bias":{"5":-1.5}}})",
      limits());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->stream);
  EXPECT_TRUE(r->list_response);
  ASSERT_EQ(r->items.size(), 2u);
  EXPECT_EQ(r->prompts[1].ids, (std::vector<int32_t>{4, 5}));
  const auto& sp = r->items[1].sampling;
  EXPECT_TRUE(sp.greedy());
  EXPECT_TRUE(sp.ignore_eos);
  EXPECT_FALSE(sp.json_schema.has_value());
  EXPECT_EQ(sp.max_new_tokens.value_or(-1), 16);
  EXPECT_EQ(sp.stream_interval.value_or(-1), 4);
  EXPECT_EQ(sp.stop, std::vector<std::string>{"\n"});
  EXPECT_EQ(sp.stop_token_ids, std::vector<int64_t>{7});
  EXPECT_EQ(sp.top_k, 20);
  EXPECT_EQ(sp.sampling_seed.value_or(-1), 11);
  ASSERT_EQ(sp.logit_bias.size(), 1u);
  EXPECT_EQ(sp.logit_bias[0].first, 5);
  EXPECT_DOUBLE_EQ(sp.logit_bias[0].second, -1.5);
  EXPECT_TRUE(r->items[0].logprob.return_logprob);
  EXPECT_EQ(r->items[0].logprob.top_logprobs_num, 2);
}

TEST(GenerateRequest, EmptyRidGetsAFreshId) {
  // Found by tests/fuzz/generate_request_fuzz.cpp: "" was kept as the id.
  auto r = parse_generate_request(R"({"text":"a","rid":""})", limits());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->items[0].rid.size(), 32u);
}

TEST(GenerateRequestParse, BatchWithOneRidNumbersIt) {
  auto r = parse_generate_request(R"({"text":["a","b","c"],"rid":"job"})", limits());
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->items.size(), 3u);
  EXPECT_EQ(r->items[0].rid, "job_0");
  EXPECT_EQ(r->items[2].rid, "job_2");
  auto single = parse_generate_request(R"({"text":"a","rid":"mine"})", limits());
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->items[0].rid, "mine");
}

TEST(GenerateRequestParse, NExpandsPromptMajorWithFreshIds) {
  auto r = parse_generate_request(R"({"text":["a","b"],"sampling_params":{"n":3}})", limits());
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->items.size(), 6u);
  std::set<std::string> rids;
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(r->items[i].prompt_index, i / 3);
    EXPECT_EQ(r->items[i].sample_index, int64_t(i % 3));
    EXPECT_EQ(r->items[i].sampling.n, 1);
    rids.insert(r->items[i].rid);
  }
  EXPECT_EQ(rids.size(), 6u);
  auto single_n = parse_generate_request(R"({"text":"a","sampling_params":{"n":2}})", limits());
  ASSERT_TRUE(single_n.ok());
  EXPECT_TRUE(single_n->list_response);  // n > 1 answers a list even for one prompt
}

TEST(GenerateRequestParse, NullMaxNewTokensKeepsTheDefault) {
  auto r = parse_generate_request(
      R"({"text":"a","sampling_params":{"max_new_tokens":null,"temperature":null}})", limits());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->items[0].sampling.max_new_tokens.value_or(-1), 128);
  EXPECT_DOUBLE_EQ(r->items[0].sampling.temperature, 1.0);
}

TEST(GenerateRequestParse, UnicodeAndEscapesSurvive) {
  auto r = parse_generate_request(R"({"text":"caf\u00e9 \ud83d\ude00 \"q\" 中文"})", limits());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->prompts[0].text, "café 😀 \"q\" 中文");
}

TEST(CompletionRequestParse, MapsOpenAiNamesOntoSamplingParams) {
  auto r = parse_completion_request(
      R"({"model":"x","prompt":"import os\n","n":3,"seed":7,"temperature":0.8,"min_tokens":2,
          "stream":true,"stream_options":{"include_usage":true},"logprobs":2,"echo":true,"stop":["\n\n"]})",
      limits());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->model, "x");
  ASSERT_EQ(r->items.size(), 3u);
  const auto& sp = r->items[0].sampling;
  EXPECT_EQ(sp.max_new_tokens.value_or(-1), 16);  // completions default
  EXPECT_EQ(sp.sampling_seed.value_or(-1), 7);
  EXPECT_EQ(sp.min_new_tokens, 2);
  EXPECT_DOUBLE_EQ(sp.temperature, 0.8);
  EXPECT_TRUE(r->stream_options.include_usage);
  EXPECT_TRUE(r->items[0].logprob.return_logprob);
  EXPECT_EQ(r->items[0].logprob.top_logprobs_num, 2);
  EXPECT_EQ(r->items[0].logprob.logprob_start_len, 0);  // echo + logprobs: prompt logprobs too
}

TEST(CompletionRequestParse, TokenPromptsAndBatches) {
  auto ids = parse_completion_request(R"({"model":"x","prompt":[1,2,3],"max_tokens":5})", limits());
  ASSERT_TRUE(ids.ok()) << ids.error().message;
  ASSERT_EQ(ids->prompts.size(), 1u);
  EXPECT_TRUE(ids->prompts[0].is_ids);
  EXPECT_EQ(ids->items[0].sampling.max_new_tokens.value_or(-1), 5);
  auto batch = parse_completion_request(R"({"model":"x","prompt":[[1],[2,3]]})", limits());
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(batch->prompts.size(), 2u);
  auto texts = parse_completion_request(R"({"model":"x","prompt":["a","b"],"logprobs":0})", limits());
  ASSERT_TRUE(texts.ok());
  EXPECT_EQ(texts->items.size(), 2u);
  EXPECT_TRUE(texts->items[0].logprob.return_logprob);  // logprobs: 0 is valid (SGLang-JAX 500s)
}

TEST(ChatRequestParse, DefaultsAndMaxCompletionTokensPreference) {
  SamplingParams defaults;
  defaults.temperature = 0.6;  // e.g. from generation_config.json
  auto r =
      parse_chat_request(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})", limits(), defaults);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->items[0].sampling.max_new_tokens.has_value());  // rest of the context
  EXPECT_DOUBLE_EQ(r->items[0].sampling.temperature, 0.6);
  auto both = parse_chat_request(
      R"({"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":9,"max_completion_tokens":5,
          "temperature":0,"n":2,"logprobs":true,"top_logprobs":3})",
      limits(), defaults);
  ASSERT_TRUE(both.ok()) << both.error().message;
  EXPECT_EQ(both->items.size(), 2u);
  EXPECT_EQ(both->items[0].sampling.max_new_tokens.value_or(-1), 5);
  EXPECT_TRUE(both->items[0].sampling.greedy());
  EXPECT_EQ(both->items[0].logprob.top_logprobs_num, 3);
}

TEST(ChatRequestParse, TemplateContextCarriesMessagesToolsKwargs) {
  auto r = parse_chat_request(
      R"({"model":"m","messages":[{"role":"system","content":"s"},
          {"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}],
          "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}],
          "chat_template_kwargs":{"enable_thinking":false}})",
      limits());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->tool_choice, "auto");
  EXPECT_FALSE(r->items[0].sampling.skip_special_tokens);
  EXPECT_EQ(enable_thinking(*r), std::optional<bool>(false));
  auto ctx = nlohmann::json::parse(build_chat_template_context(*r, "<s>", "</s>").context_json);
  EXPECT_EQ(ctx["messages"].size(), 2u);
  // SGLang-JAX templates each tool as Tool.model_dump(): the wrapper, defaults filled in.
  EXPECT_EQ(ctx["tools"][0]["type"], "function");
  EXPECT_EQ(ctx["tools"][0]["function"]["name"], "get_weather");
  EXPECT_EQ(ctx["tools"][0]["function"]["parameters"]["type"], "object");
  EXPECT_TRUE(ctx["tools"][0]["function"]["description"].is_null());
  EXPECT_EQ(ctx["tools"][0]["function"]["strict"], false);
  EXPECT_EQ(ctx["enable_thinking"], false);
  EXPECT_EQ(ctx["add_generation_prompt"], true);
  EXPECT_EQ(ctx["bos_token"], "<s>");
  EXPECT_EQ(ctx["eos_token"], "</s>");
}

TEST(ChatRequestParse, ContinueFinalMessageLeavesTheAssistantTurnToAppend) {
  auto r = parse_chat_request(
      R"({"model":"m","continue_final_message":true,
          "messages":[{"role":"user","content":"q"},{"role":"assistant","content":"The answer is"}]})",
      limits());
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto in = build_chat_template_context(*r, "", "");
  auto ctx = nlohmann::json::parse(in.context_json);
  EXPECT_EQ(ctx["messages"].size(), 1u);
  EXPECT_EQ(in.append, "The answer is");
}

TEST(ChatRequestParse, ToolChoiceNamedAndNone) {
  auto r = parse_chat_request(
      R"({"model":"m","messages":[{"role":"user","content":"q"}],
          "tools":[{"type":"function","function":{"name":"f"}}],
          "tool_choice":{"type":"function","function":{"name":"f"}}})",
      limits());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->tool_choice, "f");
  auto none = parse_chat_request(
      R"({"model":"m","messages":[{"role":"user","content":"q"}],
          "tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"none"})",
      limits());
  ASSERT_TRUE(none.ok());
  auto ctx = nlohmann::json::parse(build_chat_template_context(*none, "", "").context_json);
  EXPECT_FALSE(ctx.contains("tools"));  // tools are not shown to the model when it may not call them
}

TEST(ChatRequestParse, ForcedToolChoiceDecodesUnderSglangsArrayOfCallsSchema) {
  const std::string tools = R"([{"type":"function","function":{"name":"f","parameters":{"type":"object",
      "properties":{"x":{"$ref":"#/$defs/X"}},"$defs":{"X":{"type":"integer"}}}}},
      {"type":"function","function":{"name":"g"}}])";
  auto required = parse_chat_request(R"({"model":"m","messages":[{"role":"user","content":"q"}],"tools":)" +
                                         tools + R"(,"tool_choice":"required"})",
                                     limits());
  ASSERT_TRUE(required.ok()) << required.error().message;
  auto schema = nlohmann::json::parse(required->items[0].sampling.json_schema.value_or("null"));
  EXPECT_EQ(schema["type"], "array");
  EXPECT_EQ(schema["minItems"], 1);
  EXPECT_FALSE(schema.contains("maxItems"));
  ASSERT_EQ(schema["items"]["anyOf"].size(), 2u);
  EXPECT_EQ(schema["items"]["anyOf"][0]["properties"]["name"]["enum"][0], "f");
  EXPECT_EQ(schema["items"]["anyOf"][1]["properties"]["parameters"]["type"], "object");  // g has none
  EXPECT_EQ(schema["$defs"]["X"]["type"], "integer");  // hoisted: #/$defs/X resolves at the root
  EXPECT_FALSE(schema["items"]["anyOf"][0]["properties"]["parameters"].contains("$defs"));

  auto named =
      parse_chat_request(R"({"model":"m","messages":[{"role":"user","content":"q"}],"tools":)" + tools +
                             R"(,"tool_choice":{"type":"function","function":{"name":"g"}},
                                      "parallel_tool_calls":false})",
                         limits());
  ASSERT_TRUE(named.ok()) << named.error().message;
  schema = nlohmann::json::parse(named->items[0].sampling.json_schema.value_or("null"));
  EXPECT_EQ(schema["items"]["properties"]["name"]["enum"][0], "g");
  EXPECT_EQ(schema["maxItems"], 1);

  auto auto_choice = parse_chat_request(
      R"({"model":"m","messages":[{"role":"user","content":"q"}],"tools":)" + tools + "}", limits());
  ASSERT_TRUE(auto_choice.ok());
  EXPECT_FALSE(auto_choice->items[0].sampling.json_schema.has_value());  // "auto" is not constrained
}

TEST(ChatRequestParse, StrictToolsDecodeUnderAStructuralTagWithThinkingOff) {
  const std::string tools = R"([{"type":"function","function":{"name":"f","strict":true,"parameters":
      {"type":"object","properties":{"x":{"type":"integer"}},"required":["x"]}}},
      {"type":"function","function":{"name":"g","parameters":{"type":"object"}}}])";
  auto parse = [&](const std::string& extra) {
    auto r = parse_chat_request(
        R"({"model":"m","messages":[{"role":"user","content":"q"}],"tools":)" + tools + extra + "}",
        limits());
    EXPECT_TRUE(r.ok()) << r.error().message;
    return std::move(r).value();
  };
  auto r = parse("");
  apply_strict_tool_constraint(r, "qwen25");
  auto tag = nlohmann::json::parse(r.items[0].sampling.structural_tag.value_or("null"));
  EXPECT_EQ(tag["type"], "structural_tag");
  EXPECT_EQ(tag["triggers"], nlohmann::json::array({"<tool_call>"}));
  ASSERT_EQ(tag["structures"].size(), 2u);
  EXPECT_EQ(tag["structures"][0]["begin"], "<tool_call>\n{\"name\":\"f\", \"arguments\":");
  EXPECT_EQ(tag["structures"][0]["end"], "}\n</tool_call>");
  EXPECT_EQ(tag["structures"][0]["schema"]["required"][0], "x");
  EXPECT_EQ(tag["structures"][1]["schema"], nlohmann::json::object());  // g is not strict: any value
  EXPECT_EQ(enable_thinking(r), std::optional<bool>(false));

  // The client's enable_thinking and its own constraint win; qwen3_coder's XML calls and
  // non-strict tools are not constrained; nor is a forced choice (its array schema applies).
  auto kept =
      parse(R"(,"chat_template_kwargs":{"enable_thinking":true},"response_format":{"type":"json_object"})");
  apply_strict_tool_constraint(kept, "hermes");
  EXPECT_EQ(enable_thinking(kept), std::optional<bool>(true));
  EXPECT_FALSE(kept.items[0].sampling.structural_tag.has_value());
  EXPECT_TRUE(kept.items[0].sampling.json_schema.has_value());
  auto coder = parse("");
  apply_strict_tool_constraint(coder, "qwen3_coder");
  EXPECT_FALSE(coder.items[0].sampling.structural_tag.has_value());
  EXPECT_EQ(enable_thinking(coder), std::nullopt);
  auto required = parse(R"(,"tool_choice":"required")");
  apply_strict_tool_constraint(required, "qwen25");
  EXPECT_FALSE(required.items[0].sampling.structural_tag.has_value());
  auto lax = parse_chat_request(
      R"({"model":"m","messages":[{"role":"user","content":"q"}],"tools":[{"function":{"name":"g"}}]})",
      limits());
  ASSERT_TRUE(lax.ok());
  apply_strict_tool_constraint(*lax, "qwen25");
  EXPECT_FALSE(lax->items[0].sampling.structural_tag.has_value());

  // A request's own constraint wins over a forced choice's schema too (SGLang-JAX warns and keeps it).
  auto own = parse(R"(,"tool_choice":"required","response_format":{"type":"json_object"})");
  EXPECT_EQ(own.items[0].sampling.json_schema.value_or(""), R"({"type": "object"})");
  // strict must be a boolean, as pydantic's Function.strict.
  auto bad = parse_chat_request(
      R"({"model":"m","messages":[{"role":"user","content":"q"}],"tools":[{"function":{"name":"g","strict":"yes"}}]})",
      limits());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("strict"), std::string::npos) << bad.error().message;
}

TEST(GenerateRequestParse, StructuredOutputIsRefusedUnderSpeculativeDecoding) {
  RequestLimits spec = limits();
  spec.grammar_supported = false;  // what startup sets with --speculative-algorithm
  auto r = parse_generate_request(R"({"text":"x","sampling_params":{"regex":"a+"}})", spec);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("speculative decoding"), std::string::npos) << r.error().message;
  EXPECT_TRUE(parse_generate_request(R"({"text":"x","sampling_params":{"regex":"a+"}})", limits()).ok());
}

TEST(RequestId, IsUuid4HexAndUnique) {
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    std::string id = new_request_id();
    ASSERT_EQ(id.size(), 32u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_EQ(id[12], '4');
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 100u);
}

TEST(ChatRequestParse, CountsTheMessageTextEveryTemplateRenders) {
  // User, system and tool text (strings and text parts) count; the assistant's does not (a
  // template may drop its earlier reasoning), so the sum bounds the rendered prompt from below.
  auto r = parse_chat_request(
      R"({"model":"m","messages":[{"role":"system","content":"abc"},)"
      R"({"role":"user","content":[{"type":"text","text":"hello"},{"type":"text","text":"!"}]},)"
      R"({"role":"assistant","content":"<think>long</think>ok"},{"role":"tool","content":"42"},)"
      R"({"role":"assistant","content":null}]})",
      limits());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->message_text_bytes, 3u + 5u + 1u + 2u);
}

}  // namespace
}  // namespace sgl::server
