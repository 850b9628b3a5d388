#include "server/text/jinja/parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>

namespace sgl::text::jinja {

namespace {

// ---- template chunks --------------------------------------------------------------------------

struct Chunk {
  enum class Kind { kText, kExpr, kStmt } kind;
  std::string content;
  int line = 0;
};

int line_at(std::string_view src, size_t pos) {
  return 1 + static_cast<int>(std::count(src.begin(), src.begin() + static_cast<long>(pos), '\n'));
}

// Finds the closing delimiter, skipping string literals inside the tag.
size_t find_close(std::string_view src, size_t from, std::string_view close) {
  char quote = 0;
  for (size_t i = from; i + close.size() <= src.size(); ++i) {
    char c = src[i];
    if (quote) {
      if (c == '\\')
        ++i;
      else if (c == quote)
        quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (src.compare(i, close.size(), close) == 0) {
      return i;
    }
  }
  return std::string_view::npos;
}

Result<std::vector<Chunk>> split_chunks(std::string_view src, const ParseOptions& opt) {
  std::vector<Chunk> out;
  size_t pos = 0;
  bool strip_next = false, trim_newline = false;
  while (pos <= src.size()) {
    size_t open = src.find('{', pos);
    while (open != std::string_view::npos && open + 1 < src.size() && src[open + 1] != '{' &&
           src[open + 1] != '%' && src[open + 1] != '#')
      open = src.find('{', open + 1);
    if (open != std::string_view::npos && open + 1 >= src.size()) open = std::string_view::npos;
    std::string text(src.substr(pos, open == std::string_view::npos ? std::string_view::npos : open - pos));
    if (strip_next) {
      text.erase(0, text.find_first_not_of(" \t\r\n"));
      if (text.find_first_not_of(" \t\r\n") == std::string::npos) text.clear();
    } else if (trim_newline) {
      if (text.starts_with("\r\n"))
        text.erase(0, 2);
      else if (text.starts_with("\n"))
        text.erase(0, 1);
    }
    strip_next = trim_newline = false;
    if (open == std::string_view::npos) {
      if (!text.empty()) out.push_back({Chunk::Kind::kText, text, line_at(src, pos)});
      break;
    }
    const char type = src[open + 1];
    size_t body = open + 2;
    const bool minus_left = body < src.size() && src[body] == '-';
    const bool plus_left = body < src.size() && src[body] == '+';
    if (minus_left || plus_left) ++body;
    if (minus_left) {
      size_t e = text.find_last_not_of(" \t\r\n");
      text.erase(e == std::string::npos ? 0 : e + 1);
    } else if (opt.lstrip_blocks && !plus_left && (type == '%' || type == '#')) {
      // Spaces and tabs between a line start and a block tag belong to the tag (judged on the
      // source, as Jinja's lexer does, not on the already-trimmed text).
      size_t k = open;
      while (k > pos && (src[k - 1] == ' ' || src[k - 1] == '\t')) --k;
      if (k == 0 || src[k - 1] == '\n') text.erase(text.size() - std::min(text.size(), open - k));
    }
    if (!text.empty()) out.push_back({Chunk::Kind::kText, text, line_at(src, pos)});
    std::string_view close = type == '{' ? "}}" : type == '%' ? "%}" : "#}";
    size_t end = type == '#' ? src.find("#}", body) : find_close(src, body, close);
    if (end == std::string_view::npos)
      return invalid_argument(fmt::format("template line {}: unclosed '{{{}'", line_at(src, open), type));
    size_t content_end = end;
    if (end > body && src[end - 1] == '-') {
      strip_next = true;
      --content_end;
    }
    if (type != '#') {
      out.push_back({type == '{' ? Chunk::Kind::kExpr : Chunk::Kind::kStmt,
                     std::string(src.substr(body, content_end - body)), line_at(src, open)});
    }
    if (!strip_next && opt.trim_blocks && type != '{') trim_newline = true;
    pos = end + 2;
  }
  return out;
}

// ---- expression tokens --------------------------------------------------------------------------

struct Tok {
  enum class Kind { kName, kString, kInt, kFloat, kOp, kEnd } kind;
  std::string text;
};

Result<std::vector<Tok>> lex(const std::string& s, int line) {
  std::vector<Tok> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
      out.push_back({Tok::Kind::kName, s.substr(i, j - i)});
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t j = i;
      bool is_float = false;
      while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
      if (j + 1 < s.size() && s[j] == '.' && std::isdigit(static_cast<unsigned char>(s[j + 1]))) {
        is_float = true;
        ++j;
        while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      }
      if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
        is_float = true;
        ++j;
        if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
        while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      }
      std::string num = s.substr(i, j - i);
      num.erase(std::remove(num.begin(), num.end(), '_'), num.end());
      out.push_back({is_float ? Tok::Kind::kFloat : Tok::Kind::kInt, num});
      i = j;
    } else if (c == '\'' || c == '"') {
      std::string str;
      size_t j = i + 1;
      for (; j < s.size() && s[j] != c; ++j) {
        if (s[j] == '\\' && j + 1 < s.size()) {
          char e = s[++j];
          switch (e) {
            case 'n':
              str += '\n';
              break;
            case 't':
              str += '\t';
              break;
            case 'r':
              str += '\r';
              break;
            case '\\':
              str += '\\';
              break;
            case '\'':
              str += '\'';
              break;
            case '"':
              str += '"';
              break;
            default:
              str += '\\';
              str += e;
          }
        } else {
          str += s[j];
        }
      }
      if (j >= s.size()) return invalid_argument(fmt::format("template line {}: unterminated string", line));
      out.push_back({Tok::Kind::kString, str});
      i = j + 1;
    } else {
      static const char* two[] = {"==", "!=", "<=", ">=", "//", "**"};
      bool matched = false;
      for (const char* op : two)
        if (s.compare(i, 2, op) == 0) {
          out.push_back({Tok::Kind::kOp, op});
          i += 2;
          matched = true;
          break;
        }
      if (matched) continue;
      if (std::string_view("+-*/%<>=()[]{},.:|~").find(c) == std::string_view::npos)
        return invalid_argument(fmt::format("template line {}: unexpected character '{}'", line, c));
      out.push_back({Tok::Kind::kOp, std::string(1, c)});
      ++i;
    }
  }
  out.push_back({Tok::Kind::kEnd, ""});
  return out;
}

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

 private:
  ExprPtr make(Expr::Kind k) {
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
  Result<ExprPtr> parse_or() {
    SGL_ASSIGN_OR_RETURN(ExprPtr e, parse_and());
    while (accept_name("or")) {
      SGL_ASSIGN_OR_RETURN(ExprPtr r, parse_and());
      e = binary("or", std::move(e), std::move(r));
    }
    return e;
  }
  Result<ExprPtr> parse_and() {
    SGL_ASSIGN_OR_RETURN(ExprPtr e, parse_not());
    while (accept_name("and")) {
      SGL_ASSIGN_OR_RETURN(ExprPtr r, parse_not());
      e = binary("and", std::move(e), std::move(r));
    }
    return e;
  }
  Result<ExprPtr> parse_not() {
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
  Result<ExprPtr> parse_add() {
    SGL_ASSIGN_OR_RETURN(ExprPtr e, parse_concat());
    while (peek_op("+") || peek_op("-")) {
      std::string op = t_[p_++].text;
      SGL_ASSIGN_OR_RETURN(ExprPtr r, parse_concat());
      e = binary(op, std::move(e), std::move(r));
    }
    return e;
  }
  Result<ExprPtr> parse_concat() {
    SGL_ASSIGN_OR_RETURN(ExprPtr e, parse_mul());
    while (accept_op("~")) {
      SGL_ASSIGN_OR_RETURN(ExprPtr r, parse_mul());
      e = binary("~", std::move(e), std::move(r));
    }
    return e;
  }
  Result<ExprPtr> parse_mul() {
    SGL_ASSIGN_OR_RETURN(ExprPtr e, parse_pow());
    while (peek_op("*") || peek_op("/") || peek_op("//") || peek_op("%")) {
      std::string op = t_[p_++].text;
      SGL_ASSIGN_OR_RETURN(ExprPtr r, parse_pow());
      e = binary(op, std::move(e), std::move(r));
    }
    return e;
  }
  Result<ExprPtr> parse_pow() {
    SGL_ASSIGN_OR_RETURN(ExprPtr e, parse_unary());
    while (accept_op("**")) {
      SGL_ASSIGN_OR_RETURN(ExprPtr r, parse_unary());
      e = binary("**", std::move(e), std::move(r));
    }
    return e;
  }
  Result<ExprPtr> parse_unary() {
    if (peek_op("-") || peek_op("+")) {
      std::string op = t_[p_++].text;
      SGL_ASSIGN_OR_RETURN(ExprPtr inner, parse_unary());
      auto u = make(Expr::Kind::kUnary);
      u->name = op;
      u->a = std::move(inner);
      return u;
    }
    SGL_ASSIGN_OR_RETURN(ExprPtr e, parse_primary());
    SGL_ASSIGN_OR_RETURN(e, parse_postfix(std::move(e)));
    // Filters and tests bind to the whole postfix expression.
    for (;;) {
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
                                 t_[p_].kind == Tok::Kind::kFloat ||
                                 (t_[p_].kind == Tok::Kind::kName && !peek_name("and") && !peek_name("or") &&
                                  !peek_name("else") && !peek_name("if")))) {
          SGL_ASSIGN_OR_RETURN(ExprPtr arg, parse_primary());  // `is sameas x`, `is divisibleby 3`
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
        auto e = make(Expr::Kind::kLiteral);
        e->literal = Value::integer(std::stoll(t_[p_++].text));
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
          if (peek_op(",")) {  // a tuple: treated as a list
            auto l = make(Expr::Kind::kList);
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

  std::vector<Tok> t_;
  size_t p_ = 0;
  int line_;
};

// ---- statements ---------------------------------------------------------------------------------

class StmtParser {
 public:
  explicit StmtParser(std::vector<Chunk> chunks) : c_(std::move(chunks)) {}

  // Parses statements until one of `ends` (a block keyword) is reached; returns which one.
  Result<std::string> parse_body(Body& out, std::initializer_list<std::string_view> ends) {
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

  std::vector<Chunk> c_;
  size_t i_ = 0;
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
