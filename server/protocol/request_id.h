// Request ids as SGLang makes them: uuid4 hex, 32 lowercase characters without dashes.
#pragma once

#include <string>

namespace sgl::server {

std::string new_request_id();

}  // namespace sgl::server
