// Template source → chunks (text, {{ }}, {% %}) with Jinja's whitespace control applied, and
// the tokens of one tag's expression.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "server/text/jinja/parser.h"

namespace sgl::text::jinja {

struct Chunk {
  enum class Kind { kText, kExpr, kStmt } kind;
  std::string content;
  int line = 0;
};

// Splits the source at tags; trim_blocks / lstrip_blocks / `-` and `+` markers are applied to
// the text chunks, comments dropped, and {% raw %} bodies returned as text.
Result<std::vector<Chunk>> split_chunks(std::string_view src, const ParseOptions& opt);

struct Tok {
  enum class Kind { kName, kString, kInt, kFloat, kOp, kEnd } kind;
  std::string text;
};

// The tokens of one tag (string literals unescaped as Python's unicode-escape); ends with kEnd.
Result<std::vector<Tok>> lex(const std::string& s, int line);

}  // namespace sgl::text::jinja
