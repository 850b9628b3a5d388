// Arbitrary model output → ChatOutputParser, the reasoning and tool-call parsers chained as the chat
// route runs them (and the JSON-array reading of forced tool calls), whole and streamed at
// fuzzer-chosen chunk boundaries: the streamed pieces add up to the whole message.
//
// Input: [options][k][k piece lengths][text].
#include "chunks.h"
#include "server/parsers/chat_output.h"

namespace {

constexpr const char* kTools = R"([
  {"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{
    "city":{"type":"string"},"days":{"type":"integer"}}}}},
  {"type":"function","function":{"name":"now"}}])";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sgl::fuzz::Input in(data, size);
  const uint8_t o = in.byte();
  sgl::server::ChatParsingOptions opts;
  static const char* const kTool[] = {"", "qwen3_coder", "hermes", "qwen25"};
  opts.tool_call_parser = kTool[o % 4];
  opts.reasoning_parser = (o >> 2) % 2 ? "qwen3" : "";
  opts.tools_json = kTools;
  opts.tool_choice_none = (o >> 3) % 8 == 0;
  opts.forced_tool_call = (o >> 3) % 8 == 1;
  opts.stream_reasoning = (o >> 6) % 2 == 0;
  opts.force_reasoning = (o >> 7) % 2 == 1;
  const std::string_view prompt = "<|im_start|>assistant\n";
  const auto lengths = sgl::fuzz::read_lengths(in);
  const std::string_view text = in.rest();

  auto whole_parser = sgl::server::ChatOutputParser::create(opts, prompt);
  FUZZ_CHECK(whole_parser.ok(), opts.tool_call_parser);
  const sgl::server::ChatMessageParts whole = sgl::server::parse_chat_output(**whole_parser, text);

  auto parser = sgl::server::ChatOutputParser::create(opts, prompt);
  std::string reasoning;
  sgl::server::ParsedToolCalls calls;
  auto take = [&](sgl::server::ChatPieces p) {
    reasoning += p.reasoning;
    sgl::server::merge_tool_items(sgl::server::ToolParseResult{std::move(p.content), std::move(p.calls)},
                                  calls);
  };
  for (std::string_view piece : sgl::fuzz::cut(text, lengths)) take((*parser)->feed(piece));
  take((*parser)->finish());
  FUZZ_CHECK(reasoning == whole.reasoning, "streamed: " + reasoning + "\n  whole: " + whole.reasoning);
  FUZZ_CHECK(calls.content == whole.content, "streamed: " + calls.content + "\n  whole: " + whole.content);
  FUZZ_CHECK(calls.calls.size() == whole.calls.size(), std::to_string(calls.calls.size()));
  for (size_t i = 0; i < whole.calls.size(); ++i) {
    FUZZ_CHECK(calls.calls[i].name == whole.calls[i].name, calls.calls[i].name);
    FUZZ_CHECK(calls.calls[i].arguments == whole.calls[i].arguments, calls.calls[i].arguments);
  }
  return 0;
}
