#include "server/parsers/reasoning_parser.h"

#include <gtest/gtest.h>

#include "chunking.h"

namespace sgl::server {
namespace {

ReasoningDelta split(std::string_view prompt, std::string_view text, const char* name = "qwen3") {
  auto p = make_reasoning_parser(name, prompt);
  EXPECT_TRUE(p.ok());
  ReasoningDelta whole = split_reasoning(**p, text);
  for (const auto& cut : testing::cuts_of(text)) {
    auto q = make_reasoning_parser(name, prompt);
    ReasoningDelta streamed;
    for (const auto& piece : cut) {
      ReasoningDelta d = (*q)->feed(piece);
      if (!d.reasoning.empty()) {
        EXPECT_TRUE(streamed.content.empty()) << "reasoning after content";
      }
      streamed.reasoning += d.reasoning;
      streamed.content += d.content;
    }
    ReasoningDelta d = (*q)->finish();
    streamed.reasoning += d.reasoning;
    streamed.content += d.content;
    EXPECT_EQ(streamed.reasoning, whole.reasoning) << "cut into " << cut.size();
    EXPECT_EQ(streamed.content, whole.content) << "cut into " << cut.size();
  }
  return whole;
}

TEST(ReasoningParser, SglangJaxNamesMapToTheirFormats) {
  // mimo is SGLang-JAX's alias of its Qwen3 detector; kimi uses ◁think▷ ... ◁/think▷.
  auto mimo = split("", "<think>plan</think>answer", "mimo");
  EXPECT_EQ(mimo.reasoning, "plan");
  EXPECT_EQ(mimo.content, "answer");
  auto kimi = split("",
                    "\xe2\x97\x81think\xe2\x96\xb7plan\xe2\x97\x81/think\xe2\x96\xb7"
                    "answer",
                    "kimi");
  EXPECT_EQ(kimi.reasoning, "plan");
  EXPECT_EQ(kimi.content, "answer");
  EXPECT_EQ(split("", "plan</think>answer", "qwen3-thinking").reasoning, "plan");
  EXPECT_FALSE(is_reasoning_parser_name("gpt-oss"));
}

TEST(ReasoningParser, ThinkBlockInOutput) {
  auto r = split("<|im_start|>assistant\n", "<think>\nLet me add 2 and 2.\n</think>\n\nThe answer is 4.");
  EXPECT_EQ(r.reasoning, "Let me add 2 and 2.");
  EXPECT_EQ(r.content, "The answer is 4.");
}

TEST(ReasoningParser, OpenThinkInPromptOnlyCloseInOutput) {
  auto r = split("<|im_start|>assistant\n<think>\n", "Hmm, 3 < 4 and 5 > 2.\n\nSo yes.</think>\n\nYes.");
  EXPECT_EQ(r.reasoning, "Hmm, 3 < 4 and 5 > 2.\n\nSo yes.");
  EXPECT_EQ(r.content, "Yes.");
}

TEST(ReasoningParser, ThinkingDisabledTemplateGivesNoReasoning) {
  // enable_thinking=false renders an empty, closed block in the prompt.
  auto r = split("<|im_start|>assistant\n<think>\n\n</think>\n\n", "  Plain answer </think> here.");
  EXPECT_EQ(r.reasoning, "");
  EXPECT_EQ(r.content, "  Plain answer </think> here.");
}

TEST(ReasoningParser, TruncatedThinkingIsAllReasoning) {
  auto r = split("assistant\n<think>\n", "still thinking about </thi");
  EXPECT_EQ(r.reasoning, "still thinking about </thi");
  EXPECT_EQ(r.content, "");
}

TEST(ReasoningParser, NoBlockAtAll) {
  auto r = split("assistant\n", "Just an answer with <think> inside.");
  EXPECT_EQ(r.reasoning, "");
  EXPECT_EQ(r.content, "Just an answer with <think> inside.");
}

TEST(ReasoningParser, DeepseekR1IsForced) {
  auto r = split("", "reasoning first</think>answer", "deepseek-r1");
  EXPECT_EQ(r.reasoning, "reasoning first");
  EXPECT_EQ(r.content, "answer");
}

TEST(ReasoningParser, UnknownName) { EXPECT_FALSE(make_reasoning_parser("kimi-k9", "").ok()); }

}  // namespace
}  // namespace sgl::server
