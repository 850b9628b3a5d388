// Incremental parsers that pull tool calls out of generated text (`--tool-call-parser`).
// Streaming and non-streaming use the same state machine, so a response assembled from the stream
// equals the non-streamed one however the text was cut into chunks.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "server/parsers/tool_schema.h"

namespace sgl::server {

// One streaming delta of a call. The first item of a call carries its `name` (and usually empty
// arguments); later items carry argument fragments whose concatenation is the final JSON text.
struct ToolCallItem {
  int index = 0;
  std::string name;
  std::string arguments;
};

struct ToolParseResult {
  std::string normal_text;  // final text outside calls, safe to stream as `content`
  std::vector<ToolCallItem> calls;
  bool empty() const { return normal_text.empty() && calls.empty(); }
};

class ToolCallParser {
 public:
  virtual ~ToolCallParser() = default;
  // Consumes the next piece of output text; returns what is decided. Text that may still be the
  // start of a tag is held back until it is known.
  virtual ToolParseResult feed(std::string_view chunk) = 0;
  // End of generation: flushes held text; an unfinished call is closed or returned as text.
  virtual ToolParseResult finish() = 0;
  // Number of calls started so far (finish_reason becomes "tool_calls" when > 0).
  virtual int num_calls() const = 0;
};

// `qwen3_coder`, `hermes`, `qwen25`. Unknown name → invalid-argument error listing the known ones.
Result<std::unique_ptr<ToolCallParser>> make_tool_call_parser(std::string_view name,
                                                              std::vector<ToolSchema> tools);
bool is_tool_call_parser_name(std::string_view name);

struct ToolCall {
  std::string name;
  std::string arguments;  // JSON object text
};
struct ParsedToolCalls {
  std::string content;
  std::vector<ToolCall> calls;
};
// Non-streaming parse: feeds `text` whole into a fresh parser and merges the items.
ParsedToolCalls parse_tool_calls(ToolCallParser& fresh_parser, std::string_view text);
// Merges streamed items (for tests and for the non-streaming path).
void merge_tool_items(const ToolParseResult& piece, ParsedToolCalls& into);

}  // namespace sgl::server
