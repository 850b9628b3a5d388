// EBNF (the GBNF dialect SGLang passes to xgrammar) → PCRE2 pattern, each rule a named group
// called as a subroutine, so recursive (context-free) grammars work.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace sgl::server {

// Converts a grammar with a `root` rule to a PCRE2 pattern (UTF mode, no anchors: the caller
// anchors at both ends). Syntax errors, undefined rules, left recursion → invalid-argument error.
Result<std::string> ebnf_to_regex(std::string_view grammar);

}  // namespace sgl::server
