// How users name LoRA adapters: --lora-paths values, a request's lora_path (one name, or a list
// aligned with a batch), and the OpenAI "base:adapter" model form, as SGLang reads them.
#include "server/protocol/lora_specs.h"

#include <gtest/gtest.h>

#include "server/protocol/generate_request.h"
#include "server/protocol/openai_request.h"

namespace sgl::server {
namespace {

RequestLimits limits() { return {.context_length = 4096, .vocab_size = 1000}; }

TEST(LoraPathSpec, BarePathIsItsOwnName) {
  auto s = parse_lora_path_spec("/adapters/sql");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->name, "/adapters/sql");
  EXPECT_EQ(s->path, "/adapters/sql");
  EXPECT_FALSE(s->pinned);
}

TEST(LoraPathSpec, NameEqualsPathSplitsAtTheFirstEquals) {
  auto s = parse_lora_path_spec("sql=/adapters/a=b");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->name, "sql");
  EXPECT_EQ(s->path, "/adapters/a=b");
}

TEST(LoraPathSpec, JsonFormCarriesPinned) {
  auto s = parse_lora_path_spec(R"( {"lora_name":"sql","lora_path":"/adapters/sql","pinned":true} )");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->name, "sql");
  EXPECT_EQ(s->path, "/adapters/sql");
  EXPECT_TRUE(s->pinned);
  auto unpinned = parse_lora_path_spec(R"({"lora_name":"x","lora_path":"/x"})");
  ASSERT_TRUE(unpinned.ok());
  EXPECT_FALSE(unpinned->pinned);
}

TEST(LoraPathSpec, MalformedValuesAreRefusedNamingTheFlag) {
  for (const char* v : {"{\"lora_name\":\"x\"}", "{\"lora_path\":\"/x\"}", "{not json", "=/x",
                        "x=", "{\"lora_name\":\"x\",\"lora_path\":\"/x\",\"pinned\":\"yes\"}"}) {
    auto s = parse_lora_path_spec(v);
    ASSERT_FALSE(s.ok()) << v;
    EXPECT_NE(s.error().message.find("--lora-paths"), std::string::npos) << s.error().message;
  }
  EXPECT_FALSE(parse_lora_path_specs({"a=/x", "a=/y"}).ok());
}

TEST(LoraModelParam, AdapterFollowsTheFirstColonTrimmed) {
  EXPECT_EQ(adapter_of_model("Qwen/Qwen3-8B:sql").value_or("?"), "sql");
  EXPECT_EQ(adapter_of_model("base: sql ").value_or("?"), "sql");
  EXPECT_EQ(adapter_of_model("a:b:c").value_or("?"), "b:c");
  EXPECT_FALSE(adapter_of_model("Qwen/Qwen3-8B").has_value());
  EXPECT_FALSE(adapter_of_model("base:  ").has_value());
}

TEST(LoraGenerateField, OneNameRunsEveryPromptAndEverySample) {
  auto r =
      parse_generate_request(R"({"text":["a","b"],"lora_path":"sql","sampling_params":{"n":2}})", limits());
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->items.size(), 4u);
  for (const auto& it : r->items) EXPECT_EQ(it.lora_path.value_or("?"), "sql");
}

TEST(LoraGenerateField, ListIsAlignedWithTheBatchAndNullIsTheBase) {
  auto r = parse_generate_request(R"({"text":["a","b","c"],"lora_path":["x",null,""]})", limits());
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->items.size(), 3u);
  EXPECT_EQ(r->items[0].lora_path.value_or("?"), "x");
  EXPECT_FALSE(r->items[1].lora_path.has_value());
  EXPECT_FALSE(r->items[2].lora_path.has_value());  // SGLang: an empty name is falsy, the base
}

TEST(LoraGenerateField, AbsentOrNullIsTheBase) {
  for (const char* body : {R"({"text":"a"})", R"({"text":"a","lora_path":null})"}) {
    auto r = parse_generate_request(body, limits());
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->items[0].lora_path.has_value()) << body;
  }
}

TEST(LoraGenerateField, WrongLengthOrTypeIsA400) {
  auto len = parse_generate_request(R"({"text":["a","b"],"lora_path":["x"]})", limits());
  ASSERT_FALSE(len.ok());
  EXPECT_NE(len.error().message.find("lora_path"), std::string::npos);
  auto type = parse_generate_request(R"({"text":"a","lora_path":3})", limits());
  ASSERT_FALSE(type.ok());
  EXPECT_NE(type.error().message.find("lora_path"), std::string::npos);
}

TEST(LoraOpenAiField, CompletionsAndChatReadLoraPath) {
  auto c = parse_completion_request(R"({"model":"m","prompt":["a","b"],"lora_path":"sql"})", limits());
  ASSERT_TRUE(c.ok()) << c.error().message;
  for (const auto& it : c->items) EXPECT_EQ(it.lora_path.value_or("?"), "sql");
  auto chat = parse_chat_request(
      R"({"model":"m:ignored-here","messages":[{"role":"user","content":"hi"}],"lora_path":"sql","n":2})",
      limits());
  ASSERT_TRUE(chat.ok()) << chat.error().message;
  EXPECT_EQ(chat->model, "m:ignored-here");  // the route applies the model's adapter over lora_path
  for (const auto& it : chat->items) EXPECT_EQ(it.lora_path.value_or("?"), "sql");
}

}  // namespace
}  // namespace sgl::server
