// Qwen v1's tokenizer (../shared/models/tiny-qwen: qwen.tiktoken + QWenTokenizer's
// tokenizer_config.json, no tokenizer.json): the golden prompts' ids, the same ids as the Qwen3
// tokenizer (whose byte-level vocabulary and merges are Qwen v1's ranks) on ordinary text, the
// specials QWenTokenizer's code appends, and the built-in ChatML template.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/shared_dir.h"
#include "server/text/chat_template.h"
#include "server/text/tokenizer.h"

namespace sgl::text {
namespace {

std::shared_ptr<const Tokenizer> load(const std::string& model) {
  std::string shared = sgl::find_shared_dir(SGL_SOURCE_DIR);
  if (shared.empty()) return nullptr;
  auto t = Tokenizer::from_dir(shared + "/models/" + model);
  EXPECT_TRUE(t.ok()) << model << ": " << t.error().message;
  return t.ok() ? *t : nullptr;
}

std::shared_ptr<const Tokenizer> qwen1() {
  static std::shared_ptr<const Tokenizer> tok = load("tiny-qwen");
  return tok;
}

std::shared_ptr<const Tokenizer> qwen3() {
  static std::shared_ptr<const Tokenizer> tok = load("qwen3-tokenizer");
  return tok;
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream f(path);
  return nlohmann::json::parse(f);
}

TEST(TiktokenQwen, LoadsFromQwenTiktokenWithQwenTokenizerDefaults) {
  auto tok = qwen1();
  if (!tok) GTEST_SKIP() << "../shared/models/tiny-qwen not found";
  EXPECT_EQ(tok->vocab_size(), 151851);
  EXPECT_EQ(tok->base_vocab_size(), 151643);
  EXPECT_EQ(tok->eos_token(), "<|endoftext|>");
  EXPECT_EQ(tok->eos_token_id(), 151643);
  EXPECT_EQ(tok->bos_token_id(), -1);
  EXPECT_FALSE(tok->add_bos_token());
  EXPECT_EQ(tok->extra_stop_token_ids(), std::vector<int32_t>{151645});
  EXPECT_EQ(tok->chat_template(), builtin_chat_template("chatml"));
  EXPECT_EQ(tok->id_to_token(151644), "<|im_start|>");
  EXPECT_EQ(tok->id_to_token(151850), "<|extra_204|>");
  EXPECT_EQ(tok->token_to_id("<|extra_0|>"), 151646);
  // Ordinary tokens are named in GPT-2's byte-level form, as in Qwen2's tokenizer.json.
  EXPECT_EQ(tok->id_to_token(220), "\xc4\xa0");  // " " → Ġ
  EXPECT_EQ(tok->token_bytes(220), " ");
  for (int32_t id : {151643, 151644, 151645, 151646, 151850}) {
    EXPECT_TRUE(tok->is_special(id)) << id;
    EXPECT_TRUE(tok->is_added(id)) << id;
  }
  EXPECT_FALSE(tok->is_special(151642));
  EXPECT_FALSE(tok->is_added(0));
  // No BOS and no EOS appended, with or without add_special_tokens.
  EXPECT_EQ(tok->encode("hello world", true).value(), tok->encode("hello world", false).value());
}

TEST(TiktokenQwen, GoldenPromptsEncodeToTheirInputIds) {
  auto tok = qwen1();
  std::string shared = sgl::find_shared_dir(SGL_SOURCE_DIR);
  if (!tok || !std::filesystem::exists(shared + "/golden/tiny-qwen.golden.json"))
    GTEST_SKIP() << "../shared/models/tiny-qwen or its golden file not found";
  auto golden = read_json(shared + "/golden/tiny-qwen.golden.json");
  int n = 0;
  size_t longest = 0;
  for (const auto& c : golden["cases"]) {
    const std::string text = c["text"];
    const auto want = c["input_ids"].get<std::vector<int32_t>>();
    auto ids = tok->encode(text);
    ASSERT_TRUE(ids.ok()) << ids.error().message;
    EXPECT_EQ(*ids, want) << nlohmann::json(text).dump();
    EXPECT_EQ(tok->decode(want, {.skip_special_tokens = false}), text);
    longest = std::max(longest, want.size());
    ++n;
  }
  EXPECT_EQ(n, 10);
  EXPECT_EQ(longest, 1500u);
}

// Qwen3's tokenizer.json was written from the same ranks: the two agree wherever Qwen3's own added
// tokens (<think>, <tool_call>, ... from id 151646) play no part.
TEST(TiktokenQwen, SameIdsAsQwen3OnOrdinaryText) {
  auto v1 = qwen1();
  auto v3 = qwen3();
  if (!v1 || !v3) GTEST_SKIP() << "../shared/models/tiny-qwen or qwen3-tokenizer not found";
  std::vector<std::string> texts = {
      "Hello, world!",
      "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
      "    for (int i = 0; i < 10; ++i) { sum += a[i] * b[i]; }\r\n",
      "naïve café résumé — “quotes” and ‘single’",
      "e\xcc\x81 composed by NFC: \xe2\x84\xab vs \xc3\x85",  // é decomposed, Å (angstrom sign)
      "中文分词测试：我们今天去公园散步，天气很好。",
      "日本語のテキストと한국어 텍스트",
      "emoji 😀👍🏽🇯🇵 and 👨‍👩‍👧‍👦 family, 𠜎 rare CJK",
      "digits 1234567890 3.14159 1e-9 0x1F 2024-05-17",
      "whitespace   runs\t\ttabs\n\n\nnewlines \n \n trailing   ",
      "I'm sure you'll see they've said it's what we'd DONE, WE'LL, I'M, YOU'RE",
      "<html><body class=\"x\">&amp; &#x27;</body></html>",
      "  leading spaces and a final space ",
      "\n",
      "",
      "Ünïcödé ÀÉÎÕÜ ñ ß ø æ œ ĳ ﬁ ＡＢＣ１２３",
      "mixed中English混合text123文字",
      "SELECT * FROM users WHERE id = 42; -- comment",
      "$$\\int_0^1 x^2\\,dx = \\frac{1}{3}$$",
      "tabs\tin\tthe\tmiddle and\u00a0non-breaking\u2003spaces",
  };
  for (const auto& c : read_json(std::string(SGL_SOURCE_DIR) + "/tests/text/fixtures/qwen3_reference.json")) {
    const auto ids = c["ids"].get<std::vector<int32_t>>();
    if (std::none_of(ids.begin(), ids.end(), [](int32_t id) { return id >= 151646; }))
      texts.push_back(c["text"].get<std::string>());
  }
  ASSERT_GE(texts.size(), 300u);
  int mismatches = 0;
  for (const auto& text : texts) {
    auto a = v1->encode(text);
    auto b = v3->encode(text);
    ASSERT_TRUE(a.ok() && b.ok()) << text;
    if (*a != *b) {
      ++mismatches;
      ADD_FAILURE() << "differs for " << nlohmann::json(text).dump()
                    << "\nqwen v1: " << nlohmann::json(*a).dump()
                    << "\n  qwen3: " << nlohmann::json(*b).dump();
    }
    EXPECT_EQ(v1->decode(*a, {.skip_special_tokens = false}), v3->decode(*b, {.skip_special_tokens = false}));
  }
  EXPECT_EQ(mismatches, 0) << "of " << texts.size();
}

TEST(TiktokenQwen, SpecialTokensInTextDecodeAndSkip) {
  auto tok = qwen1();
  if (!tok) GTEST_SKIP() << "../shared/models/tiny-qwen not found";
  const struct {
    std::string text;
    int32_t id;
  } specials[] = {{"<|endoftext|>", 151643},
                  {"<|im_start|>", 151644},
                  {"<|im_end|>", 151645},
                  {"<|extra_0|>", 151646},
                  {"<|extra_204|>", 151850}};
  for (const auto& s : specials) {
    EXPECT_EQ(tok->token_to_id(s.text), s.id);
    EXPECT_EQ(tok->encode(s.text).value(), std::vector<int32_t>{s.id}) << s.text;
    EXPECT_EQ(tok->decode(std::vector<int32_t>{s.id}, {.skip_special_tokens = false}), s.text);
    EXPECT_EQ(tok->decode(std::vector<int32_t>{s.id}, {.skip_special_tokens = true}), "");
  }
  const std::string text = "<|im_start|>user\nhi there<|im_end|>\n<|extra_7|>x<|endoftext|>";
  auto ids = tok->encode(text).value();
  ASSERT_GE(ids.size(), 6u);
  EXPECT_EQ(ids.front(), 151644);
  EXPECT_EQ(ids.back(), 151643);
  EXPECT_NE(std::find(ids.begin(), ids.end(), 151645), ids.end());
  EXPECT_NE(std::find(ids.begin(), ids.end(), 151653), ids.end());  // <|extra_7|>
  EXPECT_EQ(tok->decode(ids, {.skip_special_tokens = false}), text);
  EXPECT_EQ(tok->decode(ids, {.skip_special_tokens = true}), "user\nhi there\nx");
  // A near-special is ordinary text.
  auto near = tok->encode("<|extra_205|><|im_end|").value();
  EXPECT_TRUE(std::none_of(near.begin(), near.end(), [](int32_t id) { return id >= 151643; }));
  EXPECT_EQ(tok->decode(near), "<|extra_205|><|im_end|");
  // The streaming detokenizer agrees with decode.
  const auto mixed = tok->encode(text + " 世界😀 naïve").value();
  for (bool skip : {true, false}) {
    StreamingDetokenizer d(tok, {.skip_special_tokens = skip});
    std::string streamed;
    for (int32_t id : mixed) streamed += d.feed(id);
    streamed += d.finish();
    EXPECT_EQ(streamed, tok->decode(mixed, {.skip_special_tokens = skip}));
  }
}

std::string render(const std::string& source, const nlohmann::json& messages, bool add_generation_prompt) {
  auto tmpl = ChatTemplate::create(source);
  EXPECT_TRUE(tmpl.ok()) << tmpl.error().message;
  if (!tmpl.ok()) return "";
  nlohmann::json ctx = {{"messages", messages}, {"add_generation_prompt", add_generation_prompt}};
  auto out = (*tmpl)->render(ctx.dump());
  EXPECT_TRUE(out.ok()) << out.error().message;
  return out.ok() ? *out : "";
}

TEST(TiktokenQwen, ChatMLTemplateRendersQwenMakeContext) {
  const std::string chatml(builtin_chat_template("chatml"));
  ASSERT_FALSE(chatml.empty());
  EXPECT_EQ(builtin_chat_template("qwen"), chatml);
  EXPECT_EQ(builtin_chat_template("no-such-template"), "");
  using J = nlohmann::json;
  const J user = J::array({{{"role", "user"}, {"content", "Hello"}}});
  // No system message: the default one.
  EXPECT_EQ(render(chatml, user, true),
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
            "<|im_start|>user\nHello<|im_end|>\n"
            "<|im_start|>assistant\n");
  EXPECT_EQ(render(chatml, user, false),
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
            "<|im_start|>user\nHello<|im_end|>\n");
  // An explicit system message replaces it.
  const J with_system =
      J::array({{{"role", "system"}, {"content", "Be brief."}}, {{"role", "user"}, {"content", "Hi"}}});
  EXPECT_EQ(render(chatml, with_system, true),
            "<|im_start|>system\nBe brief.<|im_end|>\n"
            "<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\n");
  EXPECT_EQ(render(chatml, with_system, false),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n");
  // Several turns; content given as parts is joined; multi-line content kept as is.
  const J turns = J::array({{{"role", "user"}, {"content", "What is 2+2?"}},
                            {{"role", "assistant"}, {"content", "4"}},
                            {{"role", "user"},
                             {"content", J::array({{{"type", "text"}, {"text", "And "}},
                                                   {{"type", "text"}, {"text", "3+3?\n"}}})}}});
  const std::string turns_text =
      "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
      "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
      "<|im_start|>assistant\n4<|im_end|>\n"
      "<|im_start|>user\nAnd 3+3?\n<|im_end|>\n";
  EXPECT_EQ(render(chatml, turns, false), turns_text);
  EXPECT_EQ(render(chatml, turns, true), turns_text + "<|im_start|>assistant\n");
  // An assistant turn without content (tool calls only) renders empty.
  const J no_content =
      J::array({{{"role", "user"}, {"content", "x"}}, {{"role", "assistant"}, {"content", nullptr}}});
  EXPECT_EQ(render(chatml, no_content, false),
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
            "<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\n<|im_end|>\n");

  // Through the tokenizer: the markers become the special ids.
  auto tok = qwen1();
  if (!tok) return;
  auto ids = tok->encode(render(tok->chat_template(), with_system, true)).value();
  const std::vector<int32_t> head = {151644, tok->encode("system").value()[0]};
  EXPECT_EQ(std::vector<int32_t>(ids.begin(), ids.begin() + 2), head);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 151644), 3);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 151645), 2);
}

}  // namespace
}  // namespace sgl::text
