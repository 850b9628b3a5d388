// Post-processing of one chat choice's generated text, as SGLang's serving_chat does it: the
// reasoning parser splits off the <think> block, then the tool-call parser pulls calls out of the
// rest. Streaming and non-streaming feed the same object, so both give the same message.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "server/parsers/reasoning_parser.h"
#include "server/parsers/tool_call_parser.h"

namespace sgl::server {

struct ChatPieces {
  std::string reasoning;
  std::string content;
  std::vector<ToolCallItem> calls;
};

// What the server flags and the chat request say about parsing one answer.
struct ChatParsingOptions {
  std::string tool_call_parser;           // --tool-call-parser ("" = none)
  std::string reasoning_parser;           // --reasoning-parser ("" = none)
  std::optional<std::string> tools_json;  // the request's `tools`
  bool tool_choice_none = false;
  // tool_choice "required" or a named function: the answer is decoded under the JSON schema of
  // an array of calls (protocol/tool_choice_schema.h) and read as that array, parser or not.
  bool forced_tool_call = false;
  bool separate_reasoning = true;
  bool thinking_enabled = true;  // chat_template_kwargs.enable_thinking is not false
  bool force_reasoning = false;  // chat_template_kwargs.enable_thinking is true
  bool stream_reasoning = true;
};

class ChatOutputParser {
 public:
  // Reasoning is separated when a reasoning parser is set, separate_reasoning holds and thinking
  // is enabled; tool calls are parsed when a tool-call parser is set, the request has tools and
  // tool_choice is not "none". `prompt` is the rendered prompt (an open <think> at its end
  // starts inside the block). Errors: `tools` that are not function schemas (→ 400).
  static Result<std::unique_ptr<ChatOutputParser>> create(const ChatParsingOptions& opts,
                                                          std::string_view prompt);

  ChatPieces feed(std::string_view text);
  ChatPieces finish();  // end of generation: flushes what was held back
  bool parses_tools() const { return tools_ != nullptr || array_mode_ != ArrayMode::kOff; }
  bool separates_reasoning() const { return reasoning_ != nullptr; }
  int num_calls() const { return (tools_ ? tools_->num_calls() : 0) + array_calls_; }

 private:
  enum class ArrayMode { kOff, kArray, kText };
  void route(ReasoningDelta d, ChatPieces& out);
  void route_content(std::string_view text, bool final_flush, ChatPieces& out);
  void feed_tool_parser(std::string_view text, bool final_flush, ChatPieces& out);

  std::unique_ptr<ReasoningParser> reasoning_;
  std::unique_ptr<ToolCallParser> tools_;
  bool stream_reasoning_ = true;
  std::string held_reasoning_;  // stream_reasoning=false: the block is sent whole once it ends
  ArrayMode array_mode_ = ArrayMode::kOff;
  std::string array_text_;  // a JSON-array answer, parsed whole at the end
  int array_calls_ = 0;
};

// The whole answer of a non-streamed choice.
struct ChatMessageParts {
  std::string reasoning;
  std::string content;
  std::vector<ToolCall> calls;
};
ChatMessageParts parse_chat_output(ChatOutputParser& fresh_parser, std::string_view text);

// tool_choice "required" or a named function: SGLang constrains the answer to a JSON array
// [{"name":…, "parameters":{…}}]. Parses that form; nullopt when `text` is not such an array.
std::optional<std::vector<ToolCall>> parse_json_array_calls(std::string_view text);

// "call_" + 24 random hex digits, as SGLang names calls.
std::string new_tool_call_id();

// message.tool_calls of a response: [{"id","index","type":"function","function":{"name","arguments"}}].
std::string tool_calls_json(const std::vector<ToolCall>& calls);
// delta.tool_calls of one stream chunk: the item's call with `id` and `name` on its first
// fragment (null afterwards) and the arguments fragment.
std::string tool_call_delta_json(const ToolCallItem& item, const std::optional<std::string>& id);

}  // namespace sgl::server
