// An optional JSON object body, as SGLang's control routes take them (/start_profile,
// /start_trace, /open_session, /pause_generation, /release_memory_occupation, ...).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/result.h"

namespace sgl::server {

// Empty, whitespace or `null` reads as {}; anything but a JSON object is a 400 error value.
Result<nlohmann::json> parse_object_body(const std::string& body);

}  // namespace sgl::server
