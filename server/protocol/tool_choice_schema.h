// tool_choice "required" or a named function: SGLang (get_json_schema_constraint) constrains the
// answer to a JSON array of calls, [{"name": …, "parameters": {…}}, …], with this JSON schema.
#pragma once

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

}  // namespace sgl::server
