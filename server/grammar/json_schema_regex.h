// JSON Schema → PCRE2 pattern for structured output (`json_schema`, `response_format`, forced
// tool calls). The pattern matches exactly the JSON texts the schema admits, within the subset
// below; PCRE2 then answers "is this text a viable prefix?" for every candidate token.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace sgl::server {

// Converts a JSON Schema document (JSON text) to a PCRE2 pattern (UTF mode, no anchors: the
// caller anchors at both ends). Unsupported or malformed schemas → invalid-argument error.
Result<std::string> json_schema_to_regex(std::string_view schema_json);

}  // namespace sgl::server
