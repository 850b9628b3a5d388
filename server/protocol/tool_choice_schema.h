// tool_choice "required" or a named function: SGLang (get_json_schema_constraint) constrains the
// answer to a JSON array of calls, [{"name": …, "parameters": {…}}, …], with this JSON schema.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace sgl::server {

// `tools_json`: the request's validated `tools` array; `tool_choice`: "required" or a function
// name. At least one call; at most one when `parallel_tool_calls` is false. The tools' `$defs`
// move to the root so their `#/$defs/…` references still resolve; two tools defining one name
// differently → invalid-argument error.
Result<std::string> forced_tool_call_schema(std::string_view tools_json, std::string_view tool_choice,
                                            bool parallel_tool_calls);

// tool_choice "auto" with a tool marked `strict`: SGLang-JAX (get_structure_constraint) decodes every
// call the model opens under a structural tag, one structure per tool — `begin` the parser's call
// opening with the tool's name, its `parameters` schema for strict tools ({} for the others), `end`
// the call's close — triggered by the opening tag. Only for parsers whose calls are JSON between
// tags (qwen25, hermes); nullopt for the others (qwen3_coder's XML-ish calls) and when no tool is
// strict.
std::optional<std::string> strict_tool_structural_tag(std::string_view tools_json,
                                                      std::string_view tool_call_parser);

}  // namespace sgl::server
