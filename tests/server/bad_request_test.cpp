// A table of bad requests: each must be refused before the scheduler, with the expected HTTP
// status and the route's own error shape (native {"error":{"message"}}, OpenAI flat object).
#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server/protocol/api_error.h"
#include "server/protocol/generate_request.h"
#include "server/protocol/openai_request.h"

namespace sgl::server {
namespace {

enum class Route { kGenerate, kCompletions, kChat };

struct BadCase {
  Route route;
  std::string body;
  int status;
  std::string message_part;  // a piece of the message the client must see
  const char* openai_type = "BadRequestError";
};

RequestLimits limits() {
  RequestLimits l;
  l.context_length = 1024;
  l.vocab_size = 1000;
  l.max_stop_strings = 4;
  return l;
}

Error parse_error(const BadCase& c) {
  switch (c.route) {
    case Route::kGenerate: {
      auto r = parse_generate_request(c.body, limits());
      return r.ok() ? Error{ErrorCode::kInternal, "accepted"} : r.error();
    }
    case Route::kCompletions: {
      auto r = parse_completion_request(c.body, limits());
      return r.ok() ? Error{ErrorCode::kInternal, "accepted"} : r.error();
    }
    case Route::kChat: {
      auto r = parse_chat_request(c.body, limits());
      return r.ok() ? Error{ErrorCode::kInternal, "accepted"} : r.error();
    }
  }
  return {};
}

const std::string kMsg = R"("messages":[{"role":"user","content":"hi"}])";
const std::string kInvalidUtf8 = std::string(R"({"text":"caf)") + "\xC3\x28" + R"("})";
const std::string kInvalidUtf8Chat =
    std::string(R"({"messages":[{"role":"user","content":"a)") + "\xFF" + R"("}]})";

std::vector<BadCase> cases() {
  using R = Route;
  const char* BR = "Bad Request";
  return {
      // Malformed bodies.
      {R::kGenerate, "{bad json", 400, "JSON"},
      {R::kGenerate, "", 400, "empty"},
      {R::kGenerate, "[1,2]", 400, "dictionary"},
      {R::kGenerate, kInvalidUtf8, 400, "UTF-8"},
      {R::kGenerate, R"({"text":"x","sampling_params":{"temperature":NaN}})", 400, "JSON"},
      {R::kGenerate, R"({"text":"x","sampling_params":{"temperature":1e999}})", 400, "JSON"},
      {R::kCompletions, "{bad", 400, "JSON", BR},
      {R::kChat, "not json", 400, "JSON", BR},
      {R::kChat, kInvalidUtf8Chat, 400, "UTF-8", BR},
      // Prompts.
      {R::kGenerate, R"({})", 400, "At least one of text, input_ids"},
      {R::kGenerate, R"({"text":"a","input_ids":[1]})", 400, "cannot be provided at the same time"},
      {R::kGenerate, R"({"input_ids":[]})", 400, "input_ids cannot be empty."},
      {R::kGenerate, R"({"text":""})", 400, "text cannot be empty"},
      {R::kGenerate, R"({"text":[]})", 400, "empty list"},
      {R::kGenerate, R"({"text":5})", 400, "text: Input should be"},
      {R::kGenerate, R"({"input_ids":[1,5000]})", 400, "outside the vocabulary"},
      {R::kGenerate, R"({"input_ids":[-1]})", 400, "outside the vocabulary"},
      {R::kGenerate, R"({"input_ids":[[1],[]]})", 400, "input_ids cannot be empty."},
      {R::kGenerate, R"({"input_ids":[1,"a"]})", 400, "input_ids.1"},
      {R::kGenerate, R"({"text":["a","b"],"rid":["r1"]})", 400, "rids length mismatch"},
      {R::kGenerate, R"({"text":["a","b"],"sampling_params":[{}]})", 400, "sampling_params list has 1"},
      {R::kGenerate, R"({"text":["a","b"],"sampling_params":[{"n":1},{"n":2}]})", 400, "parallel_sample_num"},
      // Sampling parameters (SGLang's messages).
      {R::kGenerate, R"({"text":"x","sampling_params":{"temperature":-1}})", 400,
       "temperature must be non-negative, got -1.0."},
      {R::kGenerate, R"({"text":"x","sampling_params":{"top_p":0}})", 400,
       "top_p must be in (0, 1], got 0.0."},
      {R::kGenerate, R"({"text":"x","sampling_params":{"top_p":1.5}})", 400,
       "top_p must be in (0, 1], got 1.5."},
      {R::kGenerate, R"({"text":"x","sampling_params":{"top_k":0}})", 400,
       "top_k must be -1 (disable) or at least 1, got 0."},
      {R::kGenerate, R"({"text":"x","sampling_params":{"min_p":2}})", 400,
       "min_p must be in [0, 1], got 2.0."},
      {R::kGenerate, R"({"text":"x","sampling_params":{"frequency_penalty":3}})", 400, "frequency_penalty"},
      {R::kGenerate, R"({"text":"x","sampling_params":{"presence_penalty":-2.5}})", 400, "presence_penalty"},
      {R::kGenerate, R"({"text":"x","sampling_params":{"repetition_penalty":2.5}})", 400,
       "repetition_penalty"},
      {R::kGenerate, R"({"text":"x","sampling_params":{"max_new_tokens":-1}})", 400,
       "max_new_tokens must be at least 0, got -1."},
      {R::kGenerate, R"({"text":"x","sampling_params":{"max_new_tokens":"ten"}})", 400,
       "sampling_params.max_new_tokens"},
      {R::kGenerate, R"({"text":"x","sampling_params":{"max_new_tokens":1.5}})", 400, "fractional"},
      {R::kGenerate, R"({"text":"x","sampling_params":{"min_new_tokens":9,"max_new_tokens":4}})", 400,
       "min_new_tokens must be in [0, max_new_tokens(4)], got 9."},
      {R::kGenerate, R"({"text":"x","sampling_params":{"temperature":"hot"}})", 400, "valid number"},
      {R::kGenerate, R"({"text":"x","sampling_params":{"ignore_eos":"yes"}})", 400, "valid boolean"},
      {R::kGenerate, R"({"text":"x","sampling_params":{"bogus":1}})", 400,
       "Unknown sampling parameter 'bogus'"},
      {R::kGenerate, R"({"text":"x","sampling_params":{"stop":["a","b","c","d","e"]}})", 400, "stop strings"},
      {R::kGenerate, R"({"text":"x","sampling_params":{"stop":[""]}})", 400, "must not be empty"},
      {R::kGenerate, R"({"text":"x","sampling_params":{"stop":7}})", 400, "sampling_params.stop"},
      {R::kGenerate, R"({"text":"x","sampling_params":{"stop_token_ids":[99999]}})", 400, "stop_token_ids"},
      {R::kGenerate, R"({"text":"x","sampling_params":{"logit_bias":{"5000":1.0}}})", 400,
       "logit_bias must has keys in [0, 999], got 5000."},
      {R::kGenerate, R"({"text":"x","sampling_params":{"logit_bias":{"abc":1.0}}})", 400, "logit_bias.abc"},
      {R::kGenerate, R"({"text":"x","sampling_params":{"regex":"a","ebnf":"b"}})", 400,
       "Only one of regex, json_schema, or ebnf can be set."},
      {R::kGenerate, R"({"text":"x","sampling_params":{"json_schema":7}})", 400,
       "sampling_params.json_schema"},
      {R::kGenerate, R"({"text":"x","sampling_params":{"n":0}})", 400, "n must be at least 1"},
      {R::kGenerate, R"({"text":"x","sampling_params":{"n":1000}})", 400, "n must be at most"},
      {R::kGenerate, R"({"text":"x","sampling_params":{"stream_interval":0}})", 400, "stream_interval"},
      {R::kGenerate, R"({"text":"x","sampling_params":5})", 400, "sampling_params"},
      {R::kGenerate, R"({"text":"x","stream":"yes"})", 400, "stream: Input should be a valid boolean"},
      {R::kGenerate, R"({"text":"x","logprob_start_len":-5})", 400, "logprob_start_len"},
      {R::kGenerate, R"({"text":"x","top_logprobs_num":-1})", 400, "top_logprobs_num"},
      {R::kGenerate, R"({"text":"x","token_ids_logprob":[4000]})", 400, "token_ids_logprob"},
      // /v1/completions.
      {R::kCompletions, R"({"model":"m"})", 400, "prompt: Field required", BR},
      {R::kCompletions, R"({"model":"m","prompt":""})", 400, "prompt cannot be empty"},
      {R::kCompletions, R"({"model":"m","prompt":[]})", 400, "prompt cannot be empty"},
      {R::kCompletions, R"({"model":"m","prompt":[1,2000]})", 400, "outside the vocabulary"},
      {R::kCompletions, R"({"model":"m","prompt":{"a":1}})", 400, "prompt: Input should be", BR},
      {R::kCompletions, R"({"model":"m","prompt":"x","max_tokens":0})", 400, "max_tokens must be positive"},
      {R::kCompletions, R"({"model":"m","prompt":"x","max_tokens":-3})", 400, "max_tokens must be positive"},
      {R::kCompletions, R"({"model":"m","prompt":"x","temperature":-0.5})", 400,
       "temperature must be non-negative, got -0.5."},
      {R::kCompletions, R"({"model":"m","prompt":"x","logprobs":50})", 400, "logprobs must be in [0, 20]"},
      {R::kCompletions, R"({"model":"m","prompt":"x","suffix":"y"})", 400, "suffix"},
      {R::kCompletions, R"({"model":"m","prompt":"x","n":0})", 400, "n must be at least 1"},
      {R::kCompletions, R"({"model":"m","prompt":"x","stream_options":true})", 400, "stream_options", BR},
      {R::kCompletions, R"({"model":5,"prompt":"x"})", 400, "model: Input should be a valid string", BR},
      // /v1/chat/completions.
      {R::kChat, R"({"model":"m"})", 400, "messages: Field required", BR},
      {R::kChat, R"({"model":"m","messages":[]})", 400, "Messages cannot be empty."},
      {R::kChat, R"({"model":"m","messages":"hi"})", 400, "messages: Input should be a valid list", BR},
      {R::kChat, R"({"model":"m","messages":[{"content":"x"}]})", 400, "messages.0.role: Field required", BR},
      {R::kChat, R"({"model":"m","messages":[{"role":"wizard","content":"x"}]})", 400, "wizard", BR},
      {R::kChat, R"({"model":"m","messages":[{"role":"user","content":5}]})", 400, "messages.0.content", BR},
      {R::kChat,
       R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]})", 400,
       "not supported"},
      {R::kChat, R"({"model":"m",)" + kMsg + R"(,"max_tokens":-3})", 400, "max_tokens must be positive"},
      {R::kChat, R"({"model":"m",)" + kMsg + R"(,"max_completion_tokens":0})", 400, "max_completion_tokens"},
      {R::kChat, R"({"model":"m",)" + kMsg + R"(,"top_p":0})", 400, "top_p must be in (0, 1]"},
      {R::kChat, R"({"model":"m",)" + kMsg + R"(,"top_logprobs":21,"logprobs":true})", 400, "top_logprobs"},
      {R::kChat, R"({"model":"m",)" + kMsg + R"(,"tool_choice":"required"})", 400,
       "Tools cannot be empty if tool choice is set to required."},
      {R::kChat, R"({"model":"m",)" + kMsg + R"(,"tool_choice":"sometimes"})", 400, "tool_choice", BR},
      {R::kChat,
       R"({"model":"m",)" + kMsg +
           R"(,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"g"}}})",
       400, "Tool 'g' not found in tools list."},
      {R::kChat, R"({"model":"m",)" + kMsg + R"(,"tools":[{"type":"function"}]})", 400, "tools.0.function",
       BR},
      {R::kChat, R"({"model":"m",)" + kMsg + R"(,"chat_template_kwargs":[1]})", 400, "chat_template_kwargs",
       BR},
      {R::kChat, R"({"model":"m",)" + kMsg + R"(,"response_format":{"type":"xml"}})", 400, "response_format",
       BR},
      {R::kChat, R"({"model":"m",)" + kMsg + R"(,"response_format":{"type":"json_schema"}})", 400,
       "response_format.json_schema: Field required", BR},
      {R::kChat, R"({"model":"m",)" + kMsg + R"(,"stop":["a","b","c","d","e"]})", 400, "stop strings"},
      {R::kChat, R"({"model":"m",)" + kMsg + R"(,"seed":"abc"})", 400, "seed", BR},
      {R::kChat, R"({"model":"m",)" + kMsg + R"(,"stream":1})", 400, "stream", BR},
  };
}

TEST(BadRequests, TableHasAtLeastFortyCases) { EXPECT_GE(cases().size(), 40u); }

TEST(BadRequests, EachIsRefusedWithItsStatusAndMessage) {
  for (const BadCase& c : cases()) {
    SCOPED_TRACE(c.body);
    Error e = parse_error(c);
    ASSERT_NE(e.message, "accepted");
    EXPECT_EQ(http_status_of(e), c.status);
    EXPECT_NE(e.message.find(c.message_part), std::string::npos) << "message: " << e.message;
  }
}

TEST(BadRequests, NativeRoutesAnswerSglangErrorShape) {
  for (const BadCase& c : cases()) {
    if (c.route != Route::kGenerate) continue;
    SCOPED_TRACE(c.body);
    auto j = nlohmann::json::parse(native_error_body(parse_error(c)));
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j.size(), 1u);
    ASSERT_TRUE(j["error"].is_object());
    EXPECT_TRUE(j["error"]["message"].is_string());
  }
}

TEST(BadRequests, OpenAiRoutesAnswerTheFlatOpenAiErrorObject) {
  for (const BadCase& c : cases()) {
    if (c.route == Route::kGenerate) continue;
    SCOPED_TRACE(c.body);
    Error e = parse_error(c);
    auto j = nlohmann::json::parse(openai_error_body(e));
    EXPECT_EQ(j["object"], "error");
    EXPECT_TRUE(j["message"].is_string());
    EXPECT_EQ(j["type"], c.openai_type) << e.message;
    EXPECT_TRUE(j["param"].is_null());
    EXPECT_EQ(j["code"], c.status);
  }
}

TEST(BadRequests, ContextLengthChecksUseSglangMessages) {
  RequestLimits l = limits();
  auto too_long = check_prompt_length(1024, 10, l);
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.error().message.find(
                "The input (1024 tokens) is longer than the model's context length (1024"),
            std::string::npos);
  auto total = check_prompt_length(1000, 24, l);
  ASSERT_FALSE(total.ok());
  EXPECT_NE(
      total.error().message.find("You requested a total of 1024 tokens: 1000 tokens from the input messages "
                                 "and 24 tokens for the completion"),
      std::string::npos);
  auto fill = check_prompt_length(1000, std::nullopt, l);
  ASSERT_TRUE(fill.ok());
  EXPECT_EQ(*fill, 23);
  EXPECT_EQ(*check_prompt_length(10, 0, l), 0);
  // A max_new_tokens at INT64_MAX is refused, not overflowed into a small total (fuzz finding).
  EXPECT_FALSE(check_prompt_length(10, std::numeric_limits<int64_t>::max(), l).ok());
}

TEST(BadRequests, PromptTooManyBytesForTheContextIsRefusedUntokenized) {
  RequestLimits l = limits();  // 1024-token context
  EXPECT_TRUE(check_prompt_bytes(100000000, l).ok()) << "no tokenizer bound: no byte check";
  l.max_bytes_per_token = 512;
  EXPECT_TRUE(check_prompt_bytes(1023 * 512, l).ok()) << "1023 tokens of 512 bytes may fit";
  auto st = check_prompt_bytes(1023 * 512 + 1, l);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(http_status_of(st.error()), 400);
  EXPECT_EQ(st.error().message,
            "The input (at least 1024 tokens) is longer than the model's context length (1024 tokens).");
  EXPECT_FALSE(check_prompt_bytes(8u << 20, l).ok());
}

TEST(BadRequests, ServerFailuresMapToTheirStatuses) {
  EXPECT_EQ(http_status_of({ErrorCode::kResourceExhausted, "queue full"}), 503);
  EXPECT_EQ(http_status_of({ErrorCode::kUnavailable, "starting"}), 503);
  EXPECT_EQ(http_status_of({ErrorCode::kNotFound, "no route"}), 404);
  auto j = nlohmann::json::parse(openai_error_body({ErrorCode::kInternal, "boom"}));
  EXPECT_EQ(j["code"], 500);
  EXPECT_EQ(j["type"], "InternalServerError");
  EXPECT_EQ(j["message"], "Internal server error: boom");
  auto nf = nlohmann::json::parse(openai_model_not_found_body("gpt-9"));
  EXPECT_EQ(nf["error"]["code"], "model_not_found");
  EXPECT_EQ(nf["error"]["message"], "The model 'gpt-9' does not exist");
  auto stream_err = nlohmann::json::parse(openai_stream_error_body(invalid_argument("bad")));
  EXPECT_EQ(stream_err["error"]["object"], "error");
  EXPECT_EQ(stream_err["error"]["code"], 400);
}

TEST(BadRequests, PythonFloatReprMatchesSglangMessages) {
  EXPECT_EQ(python_float(-1.0), "-1.0");
  EXPECT_EQ(python_float(0.0), "0.0");
  EXPECT_EQ(python_float(1.5), "1.5");
  EXPECT_EQ(python_float(-0.1), "-0.1");
  EXPECT_EQ(python_float(1e16), "1e+16");
}

}  // namespace
}  // namespace sgl::server
