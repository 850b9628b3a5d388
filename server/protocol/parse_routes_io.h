// /separate_reasoning and /parse_function_call: run the server's reasoning and tool-call parsers
// on text the client sends (an RL trainer or a proxy that generated through /generate). Pure
// functions from SGLang's request body to its response body, so they are tested without a server.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace sgl::server {

// {"text", "reasoning_parser"} → {"reasoning_text", "text"}. Unknown parser → invalid argument.
Result<std::string> separate_reasoning_json(std::string_view body);

// {"text", "tools": [...], "tool_call_parser"} →
// {"normal_text", "calls": [{"tool_index", "name", "parameters"}]}. `tool_index` is the called
// tool's position in `tools`; `parameters` is the arguments' JSON text. Calls naming a function
// not in `tools` are dropped, as SGLang's detectors drop them.
Result<std::string> parse_function_call_json(std::string_view body);

}  // namespace sgl::server
