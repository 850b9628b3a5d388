// Tools and tool turns through the real Qwen3 chat template, prepared as SGLang-JAX prepares them:
// tools as pydantic Tool.model_dump() ({"type", "function": {description, name, parameters,
// strict}}, defaults filled in), an assistant's tool-call
// arguments turned from a JSON string into an object, null content as "".
#include <gtest/gtest.h>

#include "base/shared_dir.h"
#include "server/protocol/openai_request.h"
#include "server/text/chat_template.h"
#include "server/text/tokenizer.h"

namespace sgl::server {
namespace {

RequestLimits limits() { return {.context_length = 4096, .vocab_size = 1000}; }

// The prompt SGLang would build for `body` with the Qwen3 tokenizer's template.
std::string render(const std::string& body) {
  std::string shared = find_shared_dir(SGL_SOURCE_DIR);
  if (shared.empty()) return "";
  // Loaded once: the tokenizer (and its template) take most of this test's time.
  static const auto tmpl = [&]() -> std::shared_ptr<const text::ChatTemplate> {
    auto tok = text::Tokenizer::from_dir(shared + "/models/qwen3-tokenizer");
    if (!tok.ok()) return nullptr;
    auto t = text::ChatTemplate::create((*tok)->chat_template());
    return t.ok() ? *t : nullptr;
  }();
  EXPECT_NE(tmpl, nullptr);
  if (!tmpl) return "";
  auto req = parse_chat_request(body, limits());
  EXPECT_TRUE(req.ok()) << req.error().message;
  auto out = tmpl->render(build_chat_template_context(*req, "", "<|im_end|>").context_json);
  EXPECT_TRUE(out.ok()) << out.error().message;
  return out.ok() ? *out : "";
}

constexpr const char* kTools =
    R"([{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object",
        "properties":{"days":{"type":"integer"},"city":{"type":"string"}}}}},
        {"type":"function","function":{"name":"now"}}])";

TEST(ChatTemplateTools, ToolsRenderAsSGLangJaxModelDumpsThem) {
  std::string p =
      render(std::string(R"({"messages":[{"role":"user","content":"hi"}],"tools":)") + kTools + "}");
  if (find_shared_dir(SGL_SOURCE_DIR).empty()) GTEST_SKIP() << "../shared (models/qwen3-tokenizer) absent";
  EXPECT_NE(
      p.find(
          "<tools>\n{\"type\": \"function\", \"function\": {\"description\": \"Weather\", \"name\": "
          "\"get_weather\", \"parameters\": {\"type\": \"object\", \"properties\": {\"days\": {\"type\": "
          "\"integer\"}, \"city\": {\"type\": \"string\"}}}, \"strict\": false}}\n{\"type\": \"function\", "
          "\"function\": {\"description\": null, \"name\": \"now\", \"parameters\": null, \"strict\": "
          "false}}\n</tools>"),
      std::string::npos)
      << p;
  EXPECT_TRUE(p.ends_with("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")) << p;

  // A named tool_choice shows only that tool; "none" shows none.
  std::string named = render(std::string(R"({"messages":[{"role":"user","content":"hi"}],"tools":)") +
                             kTools + R"(,"tool_choice":{"type":"function","function":{"name":"now"}}})");
  EXPECT_EQ(named.find("get_weather"), std::string::npos);
  EXPECT_NE(named.find("\"name\": \"now\""), std::string::npos);
  std::string none = render(std::string(R"({"messages":[{"role":"user","content":"hi"}],"tools":)") + kTools +
                            R"(,"tool_choice":"none"})");
  EXPECT_EQ(none.find("<tools>"), std::string::npos);
}

TEST(ChatTemplateTools, ToolTurnsRenderBack) {
  std::string p = render(std::string(R"({"messages":[
      {"role":"user","content":"Weather in Paris?"},
      {"role":"assistant","content":null,"tool_calls":[
        {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\": \"Paris\", \"days\": 2}"}},
        {"id":"call_2","type":"function","function":{"name":"now","arguments":"{}"}}]},
      {"role":"tool","tool_call_id":"call_1","content":"sunny"},
      {"role":"tool","tool_call_id":"call_2","content":"noon"}],"tools":)") +
                         kTools + "}");
  if (find_shared_dir(SGL_SOURCE_DIR).empty()) GTEST_SKIP() << "../shared (models/qwen3-tokenizer) absent";
  EXPECT_NE(
      p.find("<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
             "\"Paris\", \"days\": 2}}\n</tool_call>\n<tool_call>\n{\"name\": \"now\", \"arguments\": "
             "{}}\n</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\nsunny\n</tool_response>\n"
             "<tool_response>\nnoon\n</tool_response><|im_end|>\n<|im_start|>assistant\n"),
      std::string::npos)
      << p;
}

TEST(ChatTemplateTools, EnableThinkingFalseRendersTheEmptyBlock) {
  std::string p = render(
      R"({"messages":[{"role":"user","content":"hi"}],"chat_template_kwargs":{"enable_thinking":false}})");
  if (find_shared_dir(SGL_SOURCE_DIR).empty()) GTEST_SKIP() << "../shared (models/qwen3-tokenizer) absent";
  EXPECT_TRUE(p.ends_with("<|im_start|>assistant\n<think>\n\n</think>\n\n")) << p;
}

}  // namespace
}  // namespace sgl::server
