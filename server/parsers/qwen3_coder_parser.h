// `qwen3_coder` tool-call parser: Qwen3-Coder's XML-style calls
//   <tool_call>\n<function=NAME>\n<parameter=ARG>\nVALUE\n</parameter>\n...</function>\n</tool_call>
// Streams the name as soon as <function=NAME> is complete and each parameter as soon as its value
// ends, typed by the tool's JSON schema (upstream SGLang's rules).
#pragma once

#include <string>
#include <vector>

#include "server/parsers/normal_text.h"
#include "server/parsers/tool_call_parser.h"

namespace sgl::server {

class Qwen3CoderParser final : public ToolCallParser {
 public:
  explicit Qwen3CoderParser(std::vector<ToolSchema> tools);
  ToolParseResult feed(std::string_view chunk) override;
  ToolParseResult finish() override;
  int num_calls() const override { return next_index_; }

 private:
  enum class State { kOutside, kInBlock, kInFunction };
  void run(bool final_flush, ToolParseResult& out);
  // Each returns false when it needs more text.
  bool step_outside(bool final_flush, ToolParseResult& out);
  bool step_in_block(bool final_flush, ToolParseResult& out);
  bool step_in_function(bool final_flush, ToolParseResult& out);
  void close_function(ToolParseResult& out);

  std::vector<ToolSchema> tools_;
  std::string buffer_;
  State state_ = State::kOutside;
  std::string block_raw_;  // text of the current block before its first <function=...>
  const ToolSchema* tool_ = nullptr;
  int params_sent_ = 0;
  size_t value_scanned_ = 0;  // bytes of the open parameter value known to hold no tag start
  int next_index_ = 0;
  bool function_in_block_ = false;
  NormalTextEmitter text_;
};

}  // namespace sgl::server
