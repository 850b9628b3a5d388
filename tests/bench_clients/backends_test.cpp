#include "bench/serving/backends.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace sgl::bench {
namespace {

TEST(BenchBackends, RoutesOfBackends) {
  EXPECT_EQ(*api_of_backend("sglang"), Api::kNativeGenerate);
  EXPECT_EQ(*api_of_backend("sgl-jax"), Api::kNativeGenerate);
  EXPECT_EQ(*api_of_backend("vllm"), Api::kCompletions);
  EXPECT_EQ(*api_of_backend("openai-chat"), Api::kChatCompletions);
  EXPECT_FALSE(api_of_backend("trt").ok());
  EXPECT_EQ(route_of(Api::kChatCompletions), "/v1/chat/completions");
}

TEST(BenchBackends, BodiesCarryLengthAndIgnoreEos) {
  RequestSpec s;
  s.prompt = "hi";
  s.output_len = 7;
  s.model = "m";
  s.extra_body_json = R"({"top_k": 5})";
  auto native = nlohmann::json::parse(build_request_body(Api::kNativeGenerate, s));
  EXPECT_EQ(native["text"], "hi");
  EXPECT_EQ(native["sampling_params"]["max_new_tokens"], 7);
  EXPECT_EQ(native["sampling_params"]["ignore_eos"], true);
  EXPECT_EQ(native["top_k"], 5);
  auto chat = nlohmann::json::parse(build_request_body(Api::kChatCompletions, s));
  EXPECT_EQ(chat["messages"][0]["content"], "hi");
  EXPECT_EQ(chat["max_tokens"], 7);
  EXPECT_EQ(chat["stream_options"]["include_usage"], true);
}

TEST(BenchBackends, NativeStreamIsDiffed) {
  StreamReader r(Api::kNativeGenerate);
  auto e1 = r.parse(R"({"text":"Hel","meta_info":{"completion_tokens":1,"finish_reason":null}})");
  auto e2 = r.parse(
      R"({"text":"Hello","meta_info":{"completion_tokens":2,"cached_tokens":3,"finish_reason":{"type":"length"}}})");
  EXPECT_EQ(e1.text_delta, "Hel");
  EXPECT_EQ(e2.text_delta, "lo");
  EXPECT_EQ(*e2.completion_tokens, 2);
  EXPECT_EQ(*e2.cached_tokens, 3);
  EXPECT_EQ(*e2.finish_reason, "length");
}

TEST(BenchBackends, OpenAIChunksAndErrors) {
  StreamReader chat(Api::kChatCompletions);
  auto e = chat.parse(R"({"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]})");
  EXPECT_EQ(e.text_delta, "x");
  auto u = chat.parse(R"({"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":9}})");
  EXPECT_EQ(*u.completion_tokens, 9);
  auto err = chat.parse(R"({"object":"error","message":"bad","type":"BadRequestError","code":400})");
  EXPECT_EQ(err.error, "bad");
  EXPECT_FALSE(chat.parse("{not json").error.empty());
  StreamReader comp(Api::kCompletions);
  EXPECT_EQ(comp.parse(R"({"choices":[{"text":"ab"}]})").text_delta, "ab");
}

}  // namespace
}  // namespace sgl::bench
