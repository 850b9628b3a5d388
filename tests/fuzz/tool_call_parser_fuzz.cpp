// Arbitrary model output → each tool-call parser (qwen3_coder; hermes/qwen25, the JSON-call one),
// whole and streamed at fuzzer-chosen chunk boundaries. The parsers promise (tool_call_parser.h)
// that the merged stream equals the whole parse however the text is cut; streamed items go
// forward in call index and a call's first item carries its name; a call's arguments are JSON.
//
// Input: [parser][k][k piece lengths][text].
#include <nlohmann/json.hpp>

#include "chunks.h"
#include "server/parsers/tool_call_parser.h"
#include "server/text/tokenizer.h"

namespace {

// The tools of tests/parsers: every parameter type qwen3_coder converts, and a tool without any.
const std::vector<sgl::server::ToolSchema>& tools() {
  static const auto t = [] {
    auto r = sgl::server::parse_tools_json(R"([
      {"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{
        "city":{"type":"string"},"days":{"type":"integer"},"celsius":{"type":"boolean"},
        "ratio":{"type":"number"},"tags":{"type":"array"},"opts":{"type":"object"},"note":{"type":"string"}}}}},
      {"type":"function","function":{"name":"execute_bash","parameters":{"type":"object","properties":{
        "command":{"type":"string"},"timeout":{"type":"integer"}}}}},
      {"type":"function","function":{"name":"now"}}])");
    if (!r.ok()) std::abort();
    return *r;
  }();
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sgl::fuzz::Input in(data, size);
  const char* name = in.byte() % 2 ? "hermes" : "qwen3_coder";
  const auto lengths = sgl::fuzz::read_lengths(in);
  const std::string_view text = in.rest();

  auto whole_parser = sgl::server::make_tool_call_parser(name, tools());
  FUZZ_CHECK(whole_parser.ok(), name);
  const sgl::server::ParsedToolCalls whole = sgl::server::parse_tool_calls(**whole_parser, text);
  // A call may name a function outside `tools`: the parsers log it and pass it on (as SGLang with
  // SGLANG_FORWARD_UNKNOWN_TOOLS), so only its arguments' shape is checked.
  for (const auto& call : whole.calls) {
    FUZZ_CHECK(!call.name.empty(), "a call without a name");
    // Model text is valid UTF-8 (the detokenizer's promise, fuzzed by detokenizer_fuzz.cpp); other
    // bytes pass through into the arguments' strings and cannot make them JSON.
    if (sgl::text::is_valid_utf8(text)) FUZZ_CHECK(nlohmann::json::accept(call.arguments), call.arguments);
  }

  auto parser = sgl::server::make_tool_call_parser(name, tools());
  sgl::server::ParsedToolCalls streamed;
  int last_index = -1;
  auto take = [&](const sgl::server::ToolParseResult& r) {
    for (const auto& item : r.calls) {
      FUZZ_CHECK(item.index >= last_index, "indices go forward");
      if (item.index > last_index) FUZZ_CHECK(!item.name.empty(), "a call starts with its name");
      last_index = item.index;
    }
    sgl::server::merge_tool_items(r, streamed);
  };
  for (std::string_view piece : sgl::fuzz::cut(text, lengths)) take((*parser)->feed(piece));
  take((*parser)->finish());
  FUZZ_CHECK(streamed.content == whole.content,
             "streamed: " + streamed.content + "\n  whole: " + whole.content);
  FUZZ_CHECK(streamed.calls.size() == whole.calls.size(), std::to_string(streamed.calls.size()));
  for (size_t i = 0; i < whole.calls.size(); ++i) {
    FUZZ_CHECK(streamed.calls[i].name == whole.calls[i].name, streamed.calls[i].name);
    FUZZ_CHECK(streamed.calls[i].arguments == whole.calls[i].arguments,
               "streamed: " + streamed.calls[i].arguments + "\n  whole: " + whole.calls[i].arguments);
  }
  FUZZ_CHECK((*parser)->num_calls() == (*whole_parser)->num_calls(), std::to_string((*parser)->num_calls()));
  return 0;
}
