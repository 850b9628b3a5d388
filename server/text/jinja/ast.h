// Syntax tree of a Jinja template (the subset HF chat templates use, plus the common rest).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "server/text/jinja/value.h"

namespace sgl::text::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    kLiteral,
    kName,
    kList,
    kDict,
    kAttr,
    kSubscript,
    kSlice,
    kCall,
    kFilter,
    kTest,
    kUnary,
    kBinary,
    kTernary
  } kind;
  int line = 0;
  Value literal;
  std::string name;            // kName, kAttr (attribute), kFilter/kTest (name), kUnary/kBinary (op)
  ExprPtr a, b, c;             // operands: object/base, index/rhs, ternary else / slice step
  std::vector<ExprPtr> items;  // kList items, kDict keys+values interleaved, call positional args
  std::vector<std::pair<std::string, ExprPtr>> kwargs;  // call / filter / test keyword args
  bool negated = false;  // kTest: `is not`; kList: a tuple literal (prints as (a, b))
};

// The variable a `{% filter %}` block's rendered body is bound to while its filters run.
inline constexpr const char* kFilterBodyName = " filter body";

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Stmt {
  enum class Kind {
    kText,
    kOutput,
    kIf,
    kFor,
    kSet,
    kSetBlock,
    kMacro,
    kCallBlock,    // expr: the macro call; params: caller's parameters; body: caller's body
    kFilterBlock,  // expr: filters applied to the name kFilterBodyName, bound to the body's text
    kBreak,
    kContinue,
    kBlock
  } kind;
  int line = 0;
  std::string text;                                // kText
  ExprPtr expr;                                    // kOutput, kFor iterable, kSet value, kFor filter (cond)
  ExprPtr cond;                                    // kFor `if` filter
  std::vector<std::pair<ExprPtr, Body>> branches;  // kIf: (condition, body)...
  Body body, else_body;                            // kFor, kSetBlock, kMacro, kBlock; kIf/kFor else
  std::vector<std::string> targets;                // kFor loop variables, kSet name(s), kMacro name
  std::string attr;                                // kSet `ns.attr = ...`
  std::vector<std::pair<std::string, ExprPtr>> params;  // kMacro parameters with defaults
};

}  // namespace sgl::text::jinja
