// Separates a thinking model's <think>...</think> block into `reasoning_content`
// (`--reasoning-parser qwen3 | deepseek-r1`). Incremental: the same state machine serves
// streaming and non-streaming, so both give the same split.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

namespace sgl::server {

struct ReasoningDelta {
  std::string reasoning;
  std::string content;
};

class ReasoningParser {
 public:
  // `in_reasoning`: generation starts inside the block (the prompt ended with an open <think>,
  // as Qwen3 thinking templates write it, or the parser is forced like deepseek-r1).
  ReasoningParser(std::string start_tag, std::string end_tag, bool in_reasoning);

  ReasoningDelta feed(std::string_view chunk);
  ReasoningDelta finish();

 private:
  void run(bool final_flush, ReasoningDelta& out);
  void emit_reasoning(std::string_view r, bool block_end, ReasoningDelta& out);

  std::string start_;
  std::string end_;
  std::string buffer_;
  std::string held_ws_;  // trailing whitespace of the reasoning, dropped if the block ends
  bool in_reasoning_;
  bool seen_start_ = false;  // only one block: a later <think> is content
  bool block_done_ = false;
  bool content_started_ = false;  // leading whitespace of the answer is dropped
  bool reasoning_started_ = false;
};

// `qwen3`, `deepseek-r1`. `prompt` is the rendered prompt (an open <think> at its end puts the
// parser inside the block from the first token); `force` starts inside it whatever the prompt
// (SGLang's force_reasoning: the request enabled thinking).
Result<std::unique_ptr<ReasoningParser>> make_reasoning_parser(std::string_view name, std::string_view prompt,
                                                               bool force = false);
bool is_reasoning_parser_name(std::string_view name);

// Non-streaming split.
ReasoningDelta split_reasoning(ReasoningParser& fresh_parser, std::string_view text);

}  // namespace sgl::server
