// `hermes` and `qwen25` tool-call parser (JSON objects inside <tool_call> tags).
#pragma once

#include <string>
#include <vector>

#include "server/parsers/normal_text.h"
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
  int next_index_ = 0;
  NormalTextEmitter text_;
};

}  // namespace sgl::server
