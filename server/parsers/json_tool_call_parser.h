// `hermes` and `qwen25` tool-call parser (JSON objects inside <tool_call> tags).
#pragma once

#include <string>
#include <vector>

#include "server/parsers/normal_text.h"
#include "server/parsers/python_json.h"
#include "server/parsers/tool_call_parser.h"

namespace sgl::server {

class JsonToolCallParser final : public ToolCallParser {
 public:
  explicit JsonToolCallParser(std::vector<ToolSchema> tools);
  ToolParseResult feed(std::string_view chunk) override;
  ToolParseResult finish() override;
  int num_calls() const override { return next_index_; }

 private:
  void run(bool final_flush, ToolParseResult& out);
  void emit_outside(bool final_flush, ToolParseResult& out);
  bool emit_calls(std::string_view json_text, ToolParseResult& out);

  std::vector<ToolSchema> tools_;
  std::string buffer_;
  bool in_call_ = false;
  struct CallScan {
    size_t next = 0;  // first byte of the open call not scanned yet
    bool in_string = false, escaped = false;
    std::string stack;  // closers of the open brackets
    JsonScan::State state = JsonScan::State::kIncomplete;
    size_t value_end = 0;                // kComplete: one past the value
    size_t end_tag = std::string::npos;  // first </tool_call> outside strings
    void advance(std::string_view buf);
  };
  CallScan scan_;
  int next_index_ = 0;
  NormalTextEmitter text_;
};

}  // namespace sgl::server
