#include "server/text/jinja/parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <optional>

#include "server/text/jinja/lexer.h"

namespace sgl::text::jinja {

namespace {

// ---- expression parser --------------------------------------------------------------------------

class ExprParser {
 public:
  ExprParser(std::vector<Tok> toks, int line) : t_(std::move(toks)), line_(line) {}

  Result<ExprPtr> parse_expression() { return parse_ternary(); }
  // A for-loop iterable: a trailing `if` is the loop filter, not a conditional expression.
  Result<ExprPtr> parse_expression_no_ternary() { return parse_or(); }
  bool at_end() const { return t_[p_].kind == Tok::Kind::kEnd; }
  bool peek_name(std::string_view n) const { return t_[p_].kind == Tok::Kind::kName && t_[p_].text == n; }
  bool peek_op(std::string_view o) const { return t_[p_].kind == Tok::Kind::kOp && t_[p_].text == o; }
  bool accept_name(std::string_view n) { return peek_name(n) ? (++p_, true) : false; }
  bool accept_op(std::string_view o) { return peek_op(o) ? (++p_, true) : false; }
  Result<std::string> expect_name() {
    if (t_[p_].kind != Tok::Kind::kName) return error("expected a name");
    return t_[p_++].text;
  }
  Status expect_op(std::string_view o) {
    if (!accept_op(o)) return error(fmt::format("expected '{}'", o));
    return {};
  }
  Error error(std::string_view what) const {
    return invalid_argument(fmt::format("template line {}: {} near '{}'", line_, what, t_[p_].text));
  }

  // `{% filter f(args) | g %}`: the chain applied to `base` (the block's rendered body).
  Result<ExprPtr> parse_filter_chain(ExprPtr base) {
    do {
      auto f = make(Expr::Kind::kFilter);
      SGL_ASSIGN_OR_RETURN(f->name, expect_name());
      f->a = std::move(base);
      if (peek_op("(")) SGL_TRY(parse_call_args(*f));
      base = std::move(f);
    } while (accept_op("|"));
    return base;
  }
  ExprPtr name_expr(std::string name) {
    auto e = make(Expr::Kind::kName);
    e->name = std::move(name);
    return e;
  }

 private:
  ExprPtr make(Expr::Kind k) {
    ++nodes_;
    auto e = std::make_unique<Expr>();
    e->kind = k;
    e->line = line_;
    return e;
  }
  ExprPtr binary(std::string op, ExprPtr a, ExprPtr b) {
    auto e = make(Expr::Kind::kBinary);
    e->name = std::move(op);
    e->a = std::move(a);
    e->b = std::move(b);
    return e;
  }

  Result<ExprPtr> parse_ternary() {
    SGL_ASSIGN_OR_RETURN(ExprPtr e, parse_or());
    while (peek_name("if")) {
      ++p_;
      SGL_ASSIGN_OR_RETURN(ExprPtr cond, parse_or());
      ExprPtr other;
      if (accept_name("else")) {
        SGL_ASSIGN_OR_RETURN(other, parse_ternary());
      }
      auto t = make(Expr::Kind::kTernary);
      t->a = std::move(e);
      t->b = std::move(cond);
      t->c = std::move(other);
      e = std::move(t);
    }
    return e;
  }
  // Left-associative binary operators by precedence, loosest first (Jinja's grammar). The
  // logical run ends in `not`/comparisons, the arithmetic run in unary operators.
  struct BinaryLevel {
    std::array<std::string_view, 4> ops;
    bool keyword;  // `or`/`and` are name tokens, the rest operator tokens
  };
  static constexpr BinaryLevel kLogicalLevels[] = {{{"or"}, true}, {{"and"}, true}};
  static constexpr BinaryLevel kArithmeticLevels[] = {
      {{"+", "-"}, false}, {{"~"}, false}, {{"*", "/", "//", "%"}, false}, {{"**"}, false}};

  std::optional<std::string_view> accept_binary_op(const BinaryLevel& level) {
    for (std::string_view op : level.ops) {
      if (op.empty()) break;
      if (level.keyword ? accept_name(op) : accept_op(op)) return op;
    }
    return std::nullopt;
  }
  template <size_t N, class Operand>
  Result<ExprPtr> parse_binary(const BinaryLevel (&levels)[N], size_t i, Operand operand) {
    if (i == N) return operand();
    SGL_ASSIGN_OR_RETURN(ExprPtr e, parse_binary(levels, i + 1, operand));
    while (auto op = accept_binary_op(levels[i])) {
      SGL_ASSIGN_OR_RETURN(ExprPtr r, parse_binary(levels, i + 1, operand));
      e = binary(std::string(*op), std::move(e), std::move(r));
    }
    return e;
  }
  Result<ExprPtr> parse_or() {
    return parse_binary(kLogicalLevels, 0, [this] { return parse_not(); });
  }
  Result<ExprPtr> parse_add() {
    return parse_binary(kArithmeticLevels, 0, [this] { return parse_unary(); });
  }
  Result<ExprPtr> parse_not() {
    if (++depth_ > kMaxDepth) return error("expression nested too deeply");
    struct Leave {
      int& d;
      ~Leave() { --d; }
    } leave{depth_};
    if (accept_name("not")) {
      SGL_ASSIGN_OR_RETURN(ExprPtr inner, parse_not());
      auto u = make(Expr::Kind::kUnary);
      u->name = "not";
      u->a = std::move(inner);
      return u;
    }
    return parse_compare();
  }
  Result<ExprPtr> parse_compare() {
    SGL_ASSIGN_OR_RETURN(ExprPtr e, parse_add());
    for (;;) {
      std::string op;
      if (peek_op("==") || peek_op("!=") || peek_op("<") || peek_op(">") || peek_op("<=") || peek_op(">=")) {
        op = t_[p_++].text;
      } else if (peek_name("in")) {
        ++p_;
        op = "in";
      } else if (peek_name("not") && t_[p_ + 1].kind == Tok::Kind::kName && t_[p_ + 1].text == "in") {
        p_ += 2;
        op = "not in";
      } else {
        return e;
      }
      SGL_ASSIGN_OR_RETURN(ExprPtr r, parse_add());
      e = binary(op, std::move(e), std::move(r));
    }
  }
  // As Jinja's parser: `-x | f` is f(-x); the sign's operand takes no filters of its own.
  Result<ExprPtr> parse_unary(bool with_filters = true) {
    // Nesting is bounded so a hostile template cannot overflow the stack.
    if (too_big()) return error("expression too long");
    if (++depth_ > kMaxDepth) return error("expression nested too deeply");
    struct Leave {
      int& d;
      ~Leave() { --d; }
    } leave{depth_};
    ExprPtr e;
    if (peek_op("-") || peek_op("+")) {
      std::string op = t_[p_++].text;
      SGL_ASSIGN_OR_RETURN(ExprPtr inner, parse_unary(false));
      e = make(Expr::Kind::kUnary);
      e->name = op;
      e->a = std::move(inner);
    } else {
      SGL_ASSIGN_OR_RETURN(e, parse_primary());
    }
    SGL_ASSIGN_OR_RETURN(e, parse_postfix(std::move(e)));
    if (!with_filters) return e;
    // Filters and tests bind to the whole postfix expression.
    for (;;) {
      if (too_big()) return error("expression too long");
      if (accept_op("|")) {
        auto f = make(Expr::Kind::kFilter);
        SGL_ASSIGN_OR_RETURN(f->name, expect_name());
        f->a = std::move(e);
        if (peek_op("(")) SGL_TRY(parse_call_args(*f));
        e = std::move(f);
      } else if (accept_name("is")) {
        auto t = make(Expr::Kind::kTest);
        t->negated = accept_name("not");
        SGL_ASSIGN_OR_RETURN(t->name, expect_name());
        t->a = std::move(e);
        if (peek_op("(")) {
          SGL_TRY(parse_call_args(*t));
        } else if (!at_end() && (t_[p_].kind == Tok::Kind::kString || t_[p_].kind == Tok::Kind::kInt ||
                                 t_[p_].kind == Tok::Kind::kFloat || peek_op("[") || peek_op("{") ||
                                 (t_[p_].kind == Tok::Kind::kName && !peek_name("and") && !peek_name("or") &&
                                  !peek_name("else") && !peek_name("if")))) {
          SGL_ASSIGN_OR_RETURN(ExprPtr arg, parse_primary());  // `is sameas x`, `is in [1, 2]`
          SGL_ASSIGN_OR_RETURN(arg, parse_postfix(std::move(arg)));
          t->items.push_back(std::move(arg));
        }
        e = std::move(t);
      } else {
        return e;
      }
    }
  }
  Status parse_call_args(Expr& call) {
    SGL_TRY(expect_op("("));
    while (!accept_op(")")) {
      if (t_[p_].kind == Tok::Kind::kName && t_[p_ + 1].kind == Tok::Kind::kOp && t_[p_ + 1].text == "=") {
        std::string key = t_[p_].text;
        p_ += 2;
        SGL_ASSIGN_OR_RETURN(ExprPtr v, parse_expression());
        call.kwargs.emplace_back(std::move(key), std::move(v));
      } else {
        SGL_ASSIGN_OR_RETURN(ExprPtr v, parse_expression());
        call.items.push_back(std::move(v));
      }
      if (!accept_op(",") && !peek_op(")")) return error("expected ',' or ')'");
    }
    return {};
  }
  Result<ExprPtr> parse_postfix(ExprPtr e) {
    for (;;) {
      if (too_big()) return error("expression too long");
      if (accept_op(".")) {
        auto a = make(Expr::Kind::kAttr);
        if (t_[p_].kind == Tok::Kind::kInt) {
          a->name = t_[p_++].text;
        } else {
          SGL_ASSIGN_OR_RETURN(a->name, expect_name());
        }
        a->a = std::move(e);
        e = std::move(a);
      } else if (accept_op("[")) {
        ExprPtr start, stop, step;
        bool slice = false;
        if (!peek_op(":")) {
          SGL_ASSIGN_OR_RETURN(start, parse_expression());
        }
        if (accept_op(":")) {
          slice = true;
          if (!peek_op(":") && !peek_op("]")) {
            SGL_ASSIGN_OR_RETURN(stop, parse_expression());
          }
          if (accept_op(":") && !peek_op("]")) {
            SGL_ASSIGN_OR_RETURN(step, parse_expression());
          }
        }
        SGL_TRY(expect_op("]"));
        auto s = make(slice ? Expr::Kind::kSlice : Expr::Kind::kSubscript);
        s->a = std::move(e);
        if (slice) {
          s->items.push_back(std::move(start));
          s->items.push_back(std::move(stop));
          s->items.push_back(std::move(step));
        } else {
          s->b = std::move(start);
        }
        e = std::move(s);
      } else if (peek_op("(")) {
        auto c = make(Expr::Kind::kCall);
        c->a = std::move(e);
        SGL_TRY(parse_call_args(*c));
        e = std::move(c);
      } else {
        return e;
      }
    }
  }
  Result<ExprPtr> parse_primary() {
    const Tok& t = t_[p_];
    switch (t.kind) {
      case Tok::Kind::kString: {
        auto e = make(Expr::Kind::kLiteral);
        std::string s = t_[p_++].text;
        while (t_[p_].kind == Tok::Kind::kString) s += t_[p_++].text;  // adjacent literals concatenate
        e->literal = Value::string(std::move(s));
        return e;
      }
      case Tok::Kind::kInt: {
        // from_chars, not stoll: a literal past int64 is a template error, not an exception (found
        // by tests/fuzz/jinja_fuzz.cpp). Python's ints are unbounded; no chat template needs that.
        const std::string& text = t_[p_].text;
        int64_t v = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc() || end != text.data() + text.size())
          return error(fmt::format("integer literal out of range: {}", text));
        ++p_;
        auto e = make(Expr::Kind::kLiteral);
        e->literal = Value::integer(v);
        return e;
      }
      case Tok::Kind::kFloat: {
        auto e = make(Expr::Kind::kLiteral);
        e->literal = Value::number(std::stod(t_[p_++].text));
        return e;
      }
      case Tok::Kind::kName: {
        std::string n = t_[p_++].text;
        auto e = make(Expr::Kind::kLiteral);
        if (n == "true" || n == "True")
          e->literal = Value::boolean(true);
        else if (n == "false" || n == "False")
          e->literal = Value::boolean(false);
        else if (n == "none" || n == "None")
          e->literal = Value::none();
        else {
          e->kind = Expr::Kind::kName;
          e->name = n;
        }
        return e;
      }
      case Tok::Kind::kOp:
        if (accept_op("(")) {
          SGL_ASSIGN_OR_RETURN(ExprPtr inner, parse_expression());
          if (peek_op(",")) {  // a tuple: a list that prints as (a, b)
            auto l = make(Expr::Kind::kList);
            l->negated = true;
            l->items.push_back(std::move(inner));
            while (accept_op(",") && !peek_op(")")) {
              SGL_ASSIGN_OR_RETURN(ExprPtr item, parse_expression());
              l->items.push_back(std::move(item));
            }
            inner = std::move(l);
          }
          SGL_TRY(expect_op(")"));
          return inner;
        }
        if (accept_op("[")) {
          auto l = make(Expr::Kind::kList);
          while (!accept_op("]")) {
            SGL_ASSIGN_OR_RETURN(ExprPtr item, parse_expression());
            l->items.push_back(std::move(item));
            if (!accept_op(",") && !peek_op("]")) return error("expected ',' or ']'");
          }
          return l;
        }
        if (accept_op("{")) {
          auto d = make(Expr::Kind::kDict);
          while (!accept_op("}")) {
            SGL_ASSIGN_OR_RETURN(ExprPtr k, parse_expression());
            SGL_TRY(expect_op(":"));
            SGL_ASSIGN_OR_RETURN(ExprPtr v, parse_expression());
            d->items.push_back(std::move(k));
            d->items.push_back(std::move(v));
            if (!accept_op(",") && !peek_op("}")) return error("expected ',' or '}'");
          }
          return d;
        }
        return error("unexpected operator");
      case Tok::Kind::kEnd:
        return error("unexpected end of expression");
    }
    return error("unexpected token");
  }

  // Bounds on one tag's syntax tree: rendering and freeing it recurse once per level, so a
  // hostile template must not be able to build one deep enough to overflow the stack.
  static constexpr int kMaxDepth = 200;
  static constexpr int kMaxNodes = 1000;
  bool too_big() const { return nodes_ > kMaxNodes; }
  int nodes_ = 0;
  std::vector<Tok> t_;
  size_t p_ = 0;
  int line_;
  int depth_ = 0;
};

// ---- statements ---------------------------------------------------------------------------------

class StmtParser {
 public:
  explicit StmtParser(std::vector<Chunk> chunks) : c_(std::move(chunks)) {}

  // Parses statements until one of `ends` (a block keyword) is reached; returns which one.
  Result<std::string> parse_body(Body& out, std::initializer_list<std::string_view> ends) {
    // Blocks nest by recursion here and when rendering: bounded like Python's recursion limit.
    if (++nesting_ > kMaxNesting)
      return invalid_argument(
          fmt::format("template line {}: blocks nested too deeply", i_ < c_.size() ? c_[i_].line : 0));
    struct Leave {
      int& d;
      ~Leave() { --d; }
    } leave{nesting_};
    while (i_ < c_.size()) {
      const Chunk& ch = c_[i_];
      if (ch.kind == Chunk::Kind::kText) {
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::Kind::kText;
        s->text = ch.content;
        out.push_back(std::move(s));
        ++i_;
        continue;
      }
      SGL_ASSIGN_OR_RETURN(std::vector<Tok> toks, lex(ch.content, ch.line));
      ExprParser ep(std::move(toks), ch.line);
      if (ch.kind == Chunk::Kind::kExpr) {
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::Kind::kOutput;
        s->line = ch.line;
        SGL_ASSIGN_OR_RETURN(s->expr, ep.parse_expression());
        if (!ep.at_end()) return ep.error("unexpected text after expression");
        out.push_back(std::move(s));
        ++i_;
        continue;
      }
      SGL_ASSIGN_OR_RETURN(std::string kw, ep.expect_name());
      for (auto e : ends)
        if (kw == e) {
          current_ = std::move(ep);
          return kw;
        }
      ++i_;
      SGL_ASSIGN_OR_RETURN(StmtPtr st, parse_statement(kw, ep, ch.line));
      if (st) out.push_back(std::move(st));
    }
    if (ends.size() > 0)
      return invalid_argument(
          fmt::format("template: missing '{{% {} %}}' at end of template", *ends.begin()));
    return std::string();
  }

 private:
  Result<StmtPtr> parse_statement(const std::string& kw, ExprParser& ep, int line) {
    auto s = std::make_unique<Stmt>();
    s->line = line;
    if (kw == "if") {
      s->kind = Stmt::Kind::kIf;
      SGL_ASSIGN_OR_RETURN(ExprPtr cond, ep.parse_expression());
      for (;;) {
        Body body;
        SGL_ASSIGN_OR_RETURN(std::string end, parse_body(body, {"endif", "elif", "else"}));
        s->branches.emplace_back(std::move(cond), std::move(body));
        ++i_;
        if (end == "elif") {
          SGL_ASSIGN_OR_RETURN(cond, current_->parse_expression());
          continue;
        }
        if (end == "else") {
          SGL_ASSIGN_OR_RETURN(std::string e2, parse_body(s->else_body, {"endif"}));
          ++i_;
        }
        break;
      }
      return s;
    }
    if (kw == "for") {
      s->kind = Stmt::Kind::kFor;
      do {
        SGL_ASSIGN_OR_RETURN(std::string v, ep.expect_name());
        s->targets.push_back(v);
      } while (ep.accept_op(","));
      if (!ep.accept_name("in")) return ep.error("expected 'in'");
      // The iterable stops before a trailing `if` filter (not a ternary here).
      SGL_ASSIGN_OR_RETURN(s->expr, parse_for_iterable(ep));
      if (ep.accept_name("if")) {
        SGL_ASSIGN_OR_RETURN(s->cond, ep.parse_expression());
      }
      ep.accept_name("recursive");
      SGL_ASSIGN_OR_RETURN(std::string end, parse_body(s->body, {"endfor", "else"}));
      ++i_;
      if (end == "else") {
        SGL_ASSIGN_OR_RETURN(std::string e2, parse_body(s->else_body, {"endfor"}));
        ++i_;
      }
      return s;
    }
    if (kw == "set") {
      SGL_ASSIGN_OR_RETURN(std::string name, ep.expect_name());
      s->targets.push_back(name);
      if (ep.accept_op(".")) {
        SGL_ASSIGN_OR_RETURN(s->attr, ep.expect_name());
      }
      while (ep.accept_op(",")) {
        SGL_ASSIGN_OR_RETURN(std::string more, ep.expect_name());
        s->targets.push_back(more);
      }
      if (ep.accept_op("=")) {
        s->kind = Stmt::Kind::kSet;
        SGL_ASSIGN_OR_RETURN(s->expr, ep.parse_expression());
        if (!ep.at_end()) return ep.error("unexpected text after set");
        return s;
      }
      s->kind = Stmt::Kind::kSetBlock;
      SGL_ASSIGN_OR_RETURN(std::string end, parse_body(s->body, {"endset"}));
      ++i_;
      return s;
    }
    if (kw == "macro") {
      s->kind = Stmt::Kind::kMacro;
      SGL_ASSIGN_OR_RETURN(std::string name, ep.expect_name());
      s->targets.push_back(name);
      SGL_TRY(ep.expect_op("("));
      while (!ep.accept_op(")")) {
        SGL_ASSIGN_OR_RETURN(std::string p, ep.expect_name());
        ExprPtr def;
        if (ep.accept_op("=")) {
          SGL_ASSIGN_OR_RETURN(def, ep.parse_expression());
        }
        s->params.emplace_back(p, std::move(def));
        if (!ep.accept_op(",") && !ep.peek_op(")")) return ep.error("expected ',' or ')'");
      }
      SGL_ASSIGN_OR_RETURN(std::string end, parse_body(s->body, {"endmacro"}));
      ++i_;
      return s;
    }
    if (kw == "call") {  // {% call(params) macro(args) %}body{% endcall %}: body is `caller`
      s->kind = Stmt::Kind::kCallBlock;
      if (ep.accept_op("(")) {
        while (!ep.accept_op(")")) {
          SGL_ASSIGN_OR_RETURN(std::string p, ep.expect_name());
          ExprPtr def;
          if (ep.accept_op("=")) {
            SGL_ASSIGN_OR_RETURN(def, ep.parse_expression());
          }
          s->params.emplace_back(p, std::move(def));
          if (!ep.accept_op(",") && !ep.peek_op(")")) return ep.error("expected ',' or ')'");
        }
      }
      SGL_ASSIGN_OR_RETURN(s->expr, ep.parse_expression());
      if (s->expr->kind != Expr::Kind::kCall) return ep.error("expected a macro call after 'call'");
      SGL_ASSIGN_OR_RETURN(std::string end, parse_body(s->body, {"endcall"}));
      ++i_;
      return s;
    }
    if (kw == "filter") {
      s->kind = Stmt::Kind::kFilterBlock;
      SGL_ASSIGN_OR_RETURN(s->expr, ep.parse_filter_chain(ep.name_expr(kFilterBodyName)));
      if (!ep.at_end()) return ep.error("unexpected text after filter");
      SGL_ASSIGN_OR_RETURN(std::string end, parse_body(s->body, {"endfilter"}));
      ++i_;
      return s;
    }
    if (kw == "break" || kw == "continue") {
      s->kind = kw == "break" ? Stmt::Kind::kBreak : Stmt::Kind::kContinue;
      return s;
    }
    if (kw == "generation") {  // transformers' AssistantTracker block: renders its body as is
      s->kind = Stmt::Kind::kBlock;
      SGL_ASSIGN_OR_RETURN(std::string end, parse_body(s->body, {"endgeneration"}));
      ++i_;
      return s;
    }
    return ep.error("unknown or misplaced tag '" + kw + "'");
  }

  Result<ExprPtr> parse_for_iterable(ExprParser& ep) {
    // parse_or stops before `if`, which here introduces the loop filter.
    return ep.parse_expression_no_ternary();
  }

  static constexpr int kMaxNesting = 100;
  std::vector<Chunk> c_;
  size_t i_ = 0;
  int nesting_ = 0;
  std::optional<ExprParser> current_;
};

}  // namespace

Result<Body> parse_template(std::string_view source, const ParseOptions& opt) {
  SGL_ASSIGN_OR_RETURN(std::vector<Chunk> chunks, split_chunks(source, opt));
  StmtParser p(std::move(chunks));
  Body body;
  SGL_ASSIGN_OR_RETURN(std::string end, p.parse_body(body, {}));
  (void)end;
  return body;
}

}  // namespace sgl::text::jinja
