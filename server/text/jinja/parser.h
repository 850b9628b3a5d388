// Jinja source → syntax tree, with HF's environment options (trim_blocks, lstrip_blocks).
#pragma once

#include <string_view>

#include "server/text/jinja/ast.h"

namespace sgl::text::jinja {

struct ParseOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
};

// Errors carry the template line.
Result<Body> parse_template(std::string_view source, const ParseOptions& opt = {});

}  // namespace sgl::text::jinja
