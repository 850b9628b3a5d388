// POST /v1/chat/completions bodies (messages, tools, tool_choice, response_format, sampling fields)
// → parse_chat_request, then what the chat route does with a parsed request: the strict-tool
// constraint of each JSON-call parser, the chat template's context, its rendering with the real
// Qwen3 template, and the conversion of the request's grammar. Every step gives a client error or
// a consistent value; none may crash.
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "qwen3_template.h"
#include "request_checks.h"
#include "server/grammar/grammar_constraint.h"
#include "server/protocol/openai_request.h"
#include "server/text/chat_template.h"

namespace {

void check_grammar(const sgl::server::SamplingParams& sp) {
  using sgl::server::GrammarKind;
  const std::pair<const std::optional<std::string>*, GrammarKind> grammars[] = {
      {&sp.json_schema, GrammarKind::kJsonSchema},
      {&sp.regex, GrammarKind::kRegex},
      {&sp.ebnf, GrammarKind::kEbnf},
      {&sp.structural_tag, GrammarKind::kStructuralTag}};
  for (const auto& [text, kind] : grammars) {
    if (!*text) continue;
    auto pattern = sgl::server::grammar_to_pattern(kind, **text);
    if (!pattern.ok()) sgl::fuzz::check_client_error(pattern.error());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using nlohmann::ordered_json;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto limits = sgl::fuzz::fuzz_limits();
  auto parsed = sgl::server::parse_chat_request(body, limits);
  if (!parsed.ok()) {
    sgl::fuzz::check_client_error(parsed.error());
    return 0;
  }
  const sgl::server::ChatRequest& req = *parsed;
  sgl::fuzz::check_items({sgl::server::PromptInput{false, "the rendered messages", {}, {}}}, req.items,
                         limits);
  auto messages = ordered_json::parse(req.messages_json, nullptr, false);
  FUZZ_CHECK(messages.is_array() && !messages.empty(), req.messages_json);
  if (req.tools_json)
    FUZZ_CHECK(ordered_json::parse(*req.tools_json, nullptr, false).is_array(), *req.tools_json);
  // Without tools only "none" and "auto" (SGLang's default when tools are given; nothing to call
  // here) may stand; "required" or a named function need tools.
  FUZZ_CHECK(req.tools_json || req.tool_choice == "none" || req.tool_choice == "auto", req.tool_choice);
  FUZZ_CHECK(ordered_json::parse(req.chat_template_kwargs_json, nullptr, false).is_object(),
             req.chat_template_kwargs_json);
  FUZZ_CHECK(req.top_logprobs >= 0 && req.top_logprobs <= 20, std::to_string(req.top_logprobs));
  (void)sgl::server::enable_thinking(req);

  for (const char* parser : {"", "qwen25", "hermes", "qwen3_coder"}) {
    sgl::server::ChatRequest r = req;
    sgl::server::apply_strict_tool_constraint(r, parser);
    FUZZ_CHECK(ordered_json::parse(r.chat_template_kwargs_json, nullptr, false).is_object(),
               r.chat_template_kwargs_json);
    for (const auto& it : r.items) {
      FUZZ_CHECK(sgl::server::validate_sampling_params(it.sampling, limits).ok(), "constraint broke params");
      check_grammar(it.sampling);
    }
    auto input = sgl::server::build_chat_template_context(r, "<s>", "</s>");
    auto ctx = ordered_json::parse(input.context_json, nullptr, false);
    FUZZ_CHECK(ctx.is_object() && ctx.contains("messages") && ctx["messages"].is_array() &&
                   ctx.contains("add_generation_prompt") && ctx.value("bos_token", "") == "<s>",
               input.context_json);
    FUZZ_CHECK(ctx["messages"].size() + (r.continue_final_message ? 1 : 0) >= messages.size(),
               input.context_json);
    if (auto tmpl = sgl::fuzz::qwen3_template()) {
      auto prompt =
          tmpl->render(input.context_json);  // raise_exception on odd turns is an error, not a crash
      if (!prompt.ok()) sgl::fuzz::check_client_error(prompt.error());
    }
  }
  return 0;
}
