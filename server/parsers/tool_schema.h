// The function tools of a chat request, reduced to what the tool-call parsers need: the names a
// model may call and the declared JSON-schema type of each parameter (qwen3_coder converts its
// untyped XML values by that type).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace sgl::server {

struct ToolSchema {
  std::string name;
  // (parameter name, lower-cased top-level "type" of its schema; "" when absent)
  std::vector<std::pair<std::string, std::string>> param_types;

  // nullptr when the tool has no such parameter.
  const std::string* param_type(std::string_view param) const;
};

// Parses the request's `tools` array (JSON text). Each entry must be
// {"type":"function","function":{"name": non-empty string, "parameters": object (optional)}}.
// A bad entry is an invalid-argument error naming its index.
Result<std::vector<ToolSchema>> parse_tools_json(std::string_view tools_json);

const ToolSchema* find_tool(const std::vector<ToolSchema>& tools, std::string_view name);

}  // namespace sgl::server
