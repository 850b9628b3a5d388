// The chat-template interpreter (server/text/jinja/): arbitrary template text rendered against a fixed
// chat context, and the real Qwen3 template rendered against arbitrary JSON contexts (what a client
// controls: messages, tools, chat_template_kwargs). Rendering ends with text or an error, within
// the interpreter's bounds (nesting, call depth, range(), value sizes, and RenderOptions' loop and
// output budgets, set small here so that every input stays fast); valid UTF-8 in gives valid UTF-8
// out, as Python's str guarantees.
//
// Input: [mode][rest]. Mode even: rest is a template. Mode odd: rest is a context for Qwen3's template.
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "fuzz_util.h"
#include "qwen3_template.h"
#include "server/text/chat_template.h"
#include "server/text/jinja/interpreter.h"
#include "server/text/jinja/parser.h"
#include "server/text/jinja/value.h"
#include "server/text/tokenizer.h"

namespace {

constexpr std::string_view kContext = R"({
  "messages": [
    {"role": "system", "content": "You are helpful."},
    {"role": "user", "content": "What is the weather in Paris? ☀️"},
    {"role": "assistant", "content": "<think>\nLet me check.\n</think>\n\n", "reasoning_content": "hm",
     "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}}]},
    {"role": "tool", "content": "{\"temp\": 21}"},
    {"role": "user", "content": [{"type": "text", "text": "Thanks! "}, {"type": "text", "text": "And Lyon?"}]}
  ],
  "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather",
             "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
  "add_generation_prompt": true, "enable_thinking": false, "bos_token": "<s>", "eos_token": "</s>",
  "n": 3, "f": 2.5, "big": 9223372036854775807, "neg": -9223372036854775808, "none": null, "t": true,
  "s": "héllo wörld", "list": [3, 1, 2, "x", null, [1, [2]]], "obj": {"b": 1, "a": {"c": [true]}}
})";

const sgl::text::jinja::Value& context() {
  static const sgl::text::jinja::Value ctx = [] {
    auto v = sgl::text::jinja::from_json(kContext);
    if (!v.ok()) std::abort();
    return *v;
  }();
  return ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sgl::fuzz::Input in(data, size);
  const uint8_t mode = in.byte();
  const std::string_view rest = in.rest();
  if (mode % 2 == 0) {
    auto body = sgl::text::jinja::parse_template(rest);
    if (!body.ok()) return 0;
    sgl::text::jinja::RenderOptions opt;
    opt.strftime_now = [](const std::string&) { return std::string("26 Jul 2024"); };
    opt.max_steps = 20000;
    opt.max_output_bytes = 1u << 20;
    auto out = sgl::text::jinja::render(*body, context(), opt);
    if (out.ok() && sgl::text::is_valid_utf8(rest)) FUZZ_CHECK(sgl::text::is_valid_utf8(*out), *out);
    return 0;
  }
  auto tmpl = sgl::fuzz::qwen3_template();
  if (!tmpl) return 0;
  auto out = tmpl->render(rest);
  if (out.ok()) FUZZ_CHECK(sgl::text::is_valid_utf8(*out), *out);
  return 0;
}
