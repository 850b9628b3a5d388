#include "server/protocol/parse_routes_io.h"

#include <nlohmann/json.hpp>

#include "server/parsers/reasoning_parser.h"
#include "server/parsers/tool_call_parser.h"
#include "server/parsers/tool_schema.h"
#include "server/protocol/api_error.h"
#include "server/protocol/json_fields.h"

namespace sgl::server {
namespace {

using nlohmann::ordered_json;

std::string dump(const ordered_json& j) {
  return j.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

// A required string field, reported as pydantic reports a missing or mistyped one.
Result<std::string> required_string(json::Object obj, std::string_view key) {
  auto el = json::find(obj, key);
  if (!el) return bad_body(std::string(key) + ": Field required");
  return json::as_string(*el, key);
}

}  // namespace

Result<std::string> separate_reasoning_json(std::string_view body) {
  simdjson::dom::parser parser;
  SGL_ASSIGN_OR_RETURN(json::Element root, json::parse_body(parser, body));
  SGL_ASSIGN_OR_RETURN(json::Object obj, json::as_object(root, "body"));
  SGL_ASSIGN_OR_RETURN(std::string text, required_string(obj, "text"));
  SGL_ASSIGN_OR_RETURN(std::string name, required_string(obj, "reasoning_parser"));
  // No prompt: the text is judged on its own (qwen3 needs its <think>, deepseek-r1 starts inside).
  SGL_ASSIGN_OR_RETURN(auto reasoning, make_reasoning_parser(name, ""));
  ReasoningDelta split = split_reasoning(*reasoning, text);
  return dump({{"reasoning_text", split.reasoning}, {"text", split.content}});
}

Result<std::string> parse_function_call_json(std::string_view body) {
  simdjson::dom::parser parser;
  SGL_ASSIGN_OR_RETURN(json::Element root, json::parse_body(parser, body));
  SGL_ASSIGN_OR_RETURN(json::Object obj, json::as_object(root, "body"));
  SGL_ASSIGN_OR_RETURN(std::string text, required_string(obj, "text"));
  SGL_ASSIGN_OR_RETURN(std::string name, required_string(obj, "tool_call_parser"));
  std::vector<ToolSchema> tools;
  if (auto el = json::find(obj, "tools")) {
    SGL_ASSIGN_OR_RETURN(tools, parse_tools_json(json::to_json(*el)));
  }
  // The parser gets a copy: it keeps its own, and the call's index is looked up in ours.
  SGL_ASSIGN_OR_RETURN(auto tool_parser, make_tool_call_parser(name, tools));
  ParsedToolCalls parsed = parse_tool_calls(*tool_parser, text);
  ordered_json calls = ordered_json::array();
  for (const ToolCall& call : parsed.calls) {
    const ToolSchema* tool = find_tool(tools, call.name);
    if (tool == nullptr) continue;
    calls.push_back(
        {{"tool_index", tool - tools.data()}, {"name", call.name}, {"parameters", call.arguments}});
  }
  return dump({{"normal_text", parsed.content}, {"calls", std::move(calls)}});
}

}  // namespace sgl::server
