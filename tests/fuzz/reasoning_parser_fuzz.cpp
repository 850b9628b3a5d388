// Arbitrary model output → each reasoning format (<think> tags as qwen3 reads them, forced as
// deepseek-r1 / qwen3-thinking, and kimi's ◁think▷), with and without an open <think> at the end of
// the prompt, whole and streamed at fuzzer-chosen chunk boundaries: the concatenated stream equals
// the whole split (reasoning_parser.h), and no reasoning follows content in the stream.
//
// Input: [format][k][k piece lengths][text].
#include "chunks.h"
#include "server/parsers/reasoning_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sgl::fuzz::Input in(data, size);
  const uint8_t mode = in.byte();
  static const char* const kNames[] = {"qwen3", "deepseek-r1", "kimi", "qwen3-thinking"};
  const char* name = kNames[mode % 4];
  const std::string_view prompt =
      (mode >> 2) % 2 ? "<|im_start|>assistant\n<think>\n" : "<|im_start|>assistant\n";
  const bool force = (mode >> 3) % 2;
  const auto lengths = sgl::fuzz::read_lengths(in);
  const std::string_view text = in.rest();

  auto whole_parser = sgl::server::make_reasoning_parser(name, prompt, force);
  FUZZ_CHECK(whole_parser.ok(), name);
  const sgl::server::ReasoningDelta whole = sgl::server::split_reasoning(**whole_parser, text);

  auto parser = sgl::server::make_reasoning_parser(name, prompt, force);
  sgl::server::ReasoningDelta streamed;
  auto take = [&](const sgl::server::ReasoningDelta& d) {
    if (!d.reasoning.empty()) FUZZ_CHECK(streamed.content.empty(), "reasoning after content");
    streamed.reasoning += d.reasoning;
    streamed.content += d.content;
  };
  for (std::string_view piece : sgl::fuzz::cut(text, lengths)) take((*parser)->feed(piece));
  take((*parser)->finish());
  FUZZ_CHECK(streamed.reasoning == whole.reasoning,
             "streamed: " + streamed.reasoning + "\n  whole: " + whole.reasoning);
  FUZZ_CHECK(streamed.content == whole.content,
             "streamed: " + streamed.content + "\n  whole: " + whole.content);
  return 0;
}
