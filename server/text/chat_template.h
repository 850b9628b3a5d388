// A model's chat template (Jinja), rendered exactly as transformers' apply_chat_template does:
// trim_blocks, lstrip_blocks, loop controls, tojson as json.dumps(ensure_ascii=False),
// raise_exception and strftime_now.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

namespace sgl::text {

class ChatTemplate {
 public:
  // Parses once; syntax errors come back with the template line.
  static Result<std::shared_ptr<const ChatTemplate>> create(std::string_view source);
  ~ChatTemplate();

  // `context_json`: a JSON object with `messages`, optionally `tools`, `add_generation_prompt`,
  // `bos_token`, `eos_token` and every chat_template_kwargs key at top level. Message contents
  // given as lists of {"type":"text","text"} parts are joined, and tool-call arguments given as
  // JSON strings are parsed into objects first, as SGLang does before rendering.
  Result<std::string> render(std::string_view context_json) const;

  // For deterministic tests: the clock strftime_now() reads.
  void set_clock(std::function<std::string(const std::string& fmt)> strftime_now);

  struct Impl;

 protected:
  explicit ChatTemplate(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

// Templates known by name, as SGLang's --chat-template knows its conversation templates: "chatml"
// (and its alias "qwen"), the ChatML of Qwen v1's make_context, which is also the template of a Qwen
// v1 tiktoken tokenizer. "" for any other name.
std::string_view builtin_chat_template(std::string_view name);

}  // namespace sgl::text
