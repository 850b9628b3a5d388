#include "server/parsers/tool_call_parser.h"

#include <array>

#include "server/parsers/json_tool_call_parser.h"
#include "server/parsers/qwen3_coder_parser.h"

namespace sgl::server {

namespace {
// mimo: SGLang-JAX's MiMo format is Qwen3-Coder's (<tool_call><function=..><parameter=..>);
// qwen: SGLang's name of the Qwen2.5 JSON format.
constexpr std::array<std::string_view, 5> kNames = {"qwen3_coder", "mimo", "hermes", "qwen25", "qwen"};
}  // namespace

bool is_tool_call_parser_name(std::string_view name) {
  for (auto n : kNames)
    if (n == name) return true;
  return false;
}

Result<std::unique_ptr<ToolCallParser>> make_tool_call_parser(std::string_view name,
                                                              std::vector<ToolSchema> tools) {
  std::unique_ptr<ToolCallParser> p;
  if (name == "qwen3_coder" || name == "mimo") {
    p = std::make_unique<Qwen3CoderParser>(std::move(tools));
  } else if (name == "hermes" || name == "qwen25" || name == "qwen") {
    p = std::make_unique<JsonToolCallParser>(std::move(tools));
  } else {
    return invalid_argument("unknown tool-call parser '" + std::string(name) +
                            "' (known: qwen3_coder, mimo, hermes, qwen25, qwen)");
  }
  return p;
}

void merge_tool_items(const ToolParseResult& piece, ParsedToolCalls& into) {
  into.content += piece.normal_text;
  for (const auto& item : piece.calls) {
    if (static_cast<size_t>(item.index) >= into.calls.size()) into.calls.resize(item.index + 1);
    ToolCall& call = into.calls[item.index];
    if (!item.name.empty()) call.name = item.name;
    call.arguments += item.arguments;
  }
}

ParsedToolCalls parse_tool_calls(ToolCallParser& fresh_parser, std::string_view text) {
  ParsedToolCalls out;
  merge_tool_items(fresh_parser.feed(text), out);
  merge_tool_items(fresh_parser.finish(), out);
  return out;
}

}  // namespace sgl::server
