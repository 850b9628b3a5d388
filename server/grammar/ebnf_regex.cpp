// EBNF → PCRE2. A recursive-descent parser emits the pattern as it goes; each rule becomes a named
// group inside (?(DEFINE)...) and every reference a subroutine call (?&rN), so recursive grammars
// work (PCRE2 ≥ 10.30 backtracks into subroutine calls, which makes them behave like CFG
// non-terminals). Alongside the pattern the parser records a tiny expression graph, used only to
// reject left recursion, which PCRE2 would otherwise report as a match-time "recursion loop".
//
// Dialect (xgrammar's EBNF, which is also llama.cpp's GBNF minus a few bits):
//   rule     ::= name "::=" choices          a rule name must be the first token on its line
//   choices  ::= sequence ("|" sequence)*    an empty sequence matches ""
//   element  ::= "..." | [...] | [^...] | "(" choices ")" | name | "."
//   postfix  ::= element ("*" | "+" | "?" | "{m}" | "{m,}" | "{m,n}" | "{,n}")*
// Names are [A-Za-z_.-][A-Za-z0-9_.-]*; the start rule is `root`. `#` starts a comment. Escapes:
// \n \t \r \f \v \a \b \e \0 \\ \" \' \? \xH+ \uHHHH \UHHHHHHHH, and inside classes also the
// regex punctuation (\] \- \^ ...) and \d \D \s \S \w \W (ASCII meaning, as in PCRE2 without UCP).
// A bare `.` is any character, newline included (llama.cpp's meaning; xgrammar has no `.`).
// Rejected with an error: xgrammar's lookahead `(= ...)`, macros (TagDispatch, Token, Regex, ...),
// rule attributes `name[...]`, undefined or duplicate rules, missing root, left recursion.
#include "server/grammar/ebnf_regex.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

namespace sgl::server {
namespace {

constexpr size_t kNone = std::string_view::npos;
constexpr int kMaxNesting = 200;        // PCRE2's default parenthesis nesting limit is 250
constexpr uint32_t kMaxRepeat = 65535;  // PCRE2's limit on quantifier counts
constexpr uint32_t kUnbounded = UINT32_MAX;
constexpr size_t kMaxCopied = 32;  // longer bodies under {m,n} become a called group
constexpr std::string_view kMacros[] = {"TagDispatch", "Token", "ExcludeToken", "TokenTagDispatch", "Regex"};

bool is_name_char(char c, bool first) {
  return c == '_' || c == '-' || c == '.' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (!first && c >= '0' && c <= '9');
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One code point, written so it is literal both inside and outside a character class: ASCII
// alphanumerics as is, other printable ASCII backslash-escaped (always literal in PCRE2), the rest
// as \x{H} so the pattern never depends on raw bytes, whitespace or control characters.
void append_cp(std::string& out, uint32_t cp) {
  bool alnum = (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  if (alnum) {
    out += static_cast<char>(cp);
  } else if (cp > 0x20 && cp < 0x7f) {
    out += '\\';
    out += static_cast<char>(cp);
  } else {
    out += fmt::format("\\x{{{:x}}}", cp);
  }
}

// The graph for the left-recursion check: which rules an expression may call before it has
// consumed any character, which needs to know which expressions can match "".
struct Node {
  enum Kind { kTerm, kRef, kSeq, kAlt, kOpt } kind;
  bool nullable = false;  // kTerm
  int rule = -1;          // kRef
  std::vector<int> kids;
};

struct Frag {
  std::string re;
  bool atom = false;  // takes a quantifier without (?:...)
  int node = -1;
  int ref = -1;       // a bare rule reference: that rule
  int tail_ref = -1;  // a sequence ending in a bare reference: that rule, and `head` the rest
  std::string head;
};

struct Rule {
  std::string name;
  std::string re;
  int node = -1;
  size_t def_at = kNone;  // offset of the definition, kNone while only referenced
  size_t ref_at = kNone;  // offset of the first reference
};

class Parser {
 public:
  explicit Parser(std::string_view src) : s_(src) {}

  Result<std::string> run() {
    skip_space();
    while (pos_ < s_.size() && parse_rule()) {
    }
    if (err_) return *err_;
    for (const Rule& r : rules_) {
      if (r.def_at == kNone) return error(r.ref_at, fmt::format("undefined rule '{}'", r.name));
    }
    auto root = index_.find("root");
    if (root == index_.end()) return error(0, "the grammar has no 'root' rule");
    if (!check_left_recursion()) return *err_;
    std::string out = "(?(DEFINE)";
    for (size_t i = 0; i < rules_.size(); ++i) {
      // Short numbered names (PCRE2 caps names at 32 units); the comment keeps the rule name.
      out += fmt::format("(?<r{}>(?#{}){})", i, rules_[i].name, rules_[i].re);
    }
    for (size_t i = 0; i < hoisted_.size(); ++i) out += fmt::format("(?<h{}>{})", i, hoisted_[i]);
    out += fmt::format(")(?&r{})", root->second);
    return out;
  }

 private:
  bool eof(size_t d = 0) const { return pos_ + d >= s_.size(); }
  char peek(size_t d = 0) const { return eof(d) ? '\0' : s_[pos_ + d]; }

  Error error(size_t at, std::string_view msg) const {
    int line = 1, col = 1;
    for (size_t i = 0; i < at && i < s_.size(); ++i) {
      if (s_[i] == '\n') {
        ++line;
        col = 1;
      } else if ((static_cast<unsigned char>(s_[i]) & 0xC0) != 0x80) {
        ++col;  // count code points, not UTF-8 bytes
      }
    }
    return invalid_argument(fmt::format("ebnf: line {}, column {}: {}", line, col, msg));
  }
  bool fail(size_t at, std::string_view msg) {
    if (!err_) err_ = error(at, msg);
    return false;
  }

  void skip_space() {
    while (!eof()) {
      char c = peek();
      if (c == '#') {
        while (!eof() && peek() != '\n') ++pos_;
      } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++pos_;
      } else {
        break;
      }
    }
  }

  size_t name_end(size_t at) const {
    size_t i = at;
    while (i < s_.size() && is_name_char(s_[i], i == at)) ++i;
    return i;
  }

  // `name ::=` ahead: the current rule ends here (rules may span lines, so a newline doesn't).
  bool at_rule_start() const {
    size_t i = name_end(pos_);
    if (i == pos_) return false;
    while (i < s_.size() && (s_[i] == ' ' || s_[i] == '\t')) ++i;
    return s_.substr(i, 3) == "::=";
  }

  int rule_index(std::string_view name) {
    auto [it, added] = index_.emplace(std::string(name), static_cast<int>(rules_.size()));
    if (added) rules_.push_back(Rule{std::string(name), {}, -1, kNone, kNone});
    return it->second;
  }

  int add(Node::Kind kind, bool nullable = false, int rule = -1, std::vector<int> kids = {}) {
    nodes_.push_back(Node{kind, nullable, rule, std::move(kids)});
    return static_cast<int>(nodes_.size()) - 1;
  }

  bool parse_rule() {
    size_t start = pos_, end = name_end(pos_);
    if (end == pos_) return fail(pos_, "expected a rule name");
    std::string_view name = s_.substr(start, end - start);
    pos_ = end;
    while (peek() == ' ' || peek() == '\t') ++pos_;
    if (peek() == '[') return fail(pos_, "rule attributes 'name[...]' are not supported");
    if (s_.substr(pos_, 3) != "::=") return fail(pos_, "expected '::='");
    pos_ += 3;
    int r = rule_index(name);
    if (rules_[r].def_at != kNone) return fail(start, fmt::format("rule '{}' is defined twice", name));
    rules_[r].def_at = start;
    Frag body;
    std::vector<Frag> alts;
    if (!parse_choices(body, &alts)) return false;
    if (peek() == '(' && peek(1) == '=')
      return fail(pos_, "lookahead assertions '(= ...)' are not supported");
    if (!eof() && !at_rule_start()) return fail(pos_, fmt::format("unexpected '{}'", peek()));
    rules_[r].re = unroll_tail_calls(r, alts).value_or(std::move(body.re));
    rules_[r].node = body.node;
    return true;
  }

  // Arden's rule: `a ::= P a | Q` is `a ::= (?:P)*Q`. Right recursion is how (G)BNF spells loops
  // (JSON strings: `chars ::= "" | [^"] chars`), and recursing once per character costs PCRE2
  // time quadratic in the depth (each call is checked against those open) and JIT stack.
  std::optional<std::string> unroll_tail_calls(int r, const std::vector<Frag>& alts) const {
    std::string loop, rest;
    size_t loops = 0, rests = 0;
    for (const Frag& a : alts) {
      std::string& dst = a.tail_ref == r ? loop : rest;
      if ((a.tail_ref == r ? loops++ : rests++) > 0) dst += '|';
      dst += a.tail_ref == r ? a.head : a.re;
    }
    if (loops == 0) return std::nullopt;
    if (rests == 0) return "(?!)";  // only infinite derivations: the rule matches nothing
    return "(?:" + loop + ")*" + (rests > 1 ? "(?:" + rest + ")" : rest);
  }

  bool parse_choices(Frag& out, std::vector<Frag>* alts = nullptr) {
    if (!parse_sequence(out)) return false;
    if (alts != nullptr) alts->push_back(out);
    if (peek() != '|') return true;
    std::vector<int> kids{out.node};
    while (peek() == '|') {
      ++pos_;
      Frag f;
      if (!parse_sequence(f)) return false;
      if (alts != nullptr) alts->push_back(f);
      out.re += '|' + f.re;
      kids.push_back(f.node);
    }
    out.atom = false;
    out.node = add(Node::kAlt, false, -1, std::move(kids));
    return true;
  }

  // Ends at '|', ')', the end, or the next rule's `name ::=`; leaves pos_ on that token.
  bool parse_sequence(Frag& out) {
    std::vector<int> kids;
    out = {};
    for (skip_space(); !eof() && peek() != '|' && peek() != ')'; skip_space()) {
      if (peek() == '(' && peek(1) == '=') break;
      if (at_rule_start()) {
        size_t i = pos_;
        while (i > 0 && (s_[i - 1] == ' ' || s_[i - 1] == '\t')) --i;
        if (i > 0 && s_[i - 1] != '\n') return fail(pos_, "a rule name must be the first token on its line");
        break;
      }
      Frag f;
      if (!parse_postfix(f)) return false;
      out.head = out.re;
      out.tail_ref = f.ref;
      out.re += f.re;
      out.atom = kids.empty() && f.atom;
      kids.push_back(f.node);
    }
    out.node = kids.size() == 1 ? kids[0] : add(Node::kSeq, false, -1, std::move(kids));
    return true;
  }

  bool parse_count(uint32_t& n) {
    size_t start = pos_;
    uint64_t v = 0;
    while (peek() >= '0' && peek() <= '9' && v <= kMaxRepeat) v = v * 10 + (s_[pos_++] - '0');
    if (pos_ == start) return fail(pos_, "expected a repetition count");
    if (v > kMaxRepeat) return fail(start, fmt::format("repetition count above {}", kMaxRepeat));
    n = static_cast<uint32_t>(v);
    while (peek() == ' ' || peek() == '\t') ++pos_;
    return true;
  }

  bool parse_postfix(Frag& out) {
    if (!parse_element(out)) return false;
    for (skip_space(); !eof(); skip_space()) {
      char c = peek();
      uint32_t lo = 0, hi = kUnbounded;
      std::string quant(1, c);
      bool braces = c == '{';
      if (c == '*' || c == '+' || c == '?') {
        ++pos_;
        lo = c == '+';
        hi = c == '?' ? 1 : hi;
      } else if (braces) {
        size_t start = pos_++;
        while (peek() == ' ' || peek() == '\t') ++pos_;
        if (peek() != ',' && !parse_count(lo)) return false;
        hi = lo;
        if (peek() == ',') {
          ++pos_;
          while (peek() == ' ' || peek() == '\t') ++pos_;
          hi = kUnbounded;
          if (peek() != '}' && !parse_count(hi)) return false;
        }
        if (peek() != '}') return fail(pos_, "expected '}'");
        ++pos_;
        if (hi < lo) return fail(start, "repetition range with max < min");
        quant = hi == lo ? fmt::format("{{{}}}", lo)
                         : fmt::format("{{{},{}}}", lo, hi == kUnbounded ? "" : std::to_string(hi));
      } else {
        break;
      }
      if (out.re.empty()) continue;  // "" repeated is still ""
      if (braces && out.re.size() > kMaxCopied) {
        // PCRE2 compiles {m,n} by copying the group m..n times; copying a call keeps it small.
        hoisted_.push_back(std::move(out.re));
        out.re = fmt::format("(?&h{})", hoisted_.size() - 1);
      } else if (!out.atom) {
        out.re = "(?:" + out.re + ")";
      }
      out.re += quant;
      out.atom = false;
      out.ref = -1;
      if (hi == 0) {
        out.node = add(Node::kTerm, true);
      } else if (lo == 0) {
        out.node = add(Node::kOpt, false, -1, {out.node});
      }
    }
    return true;
  }

  bool parse_element(Frag& out) {
    char c = peek();
    if (c == '"') return parse_string(out);
    if (c == '[') return parse_class(out);
    if (c == '(') {
      if (peek(1) == '=') return fail(pos_, "lookahead assertions '(= ...)' are not supported");
      if (++depth_ > kMaxNesting) return fail(pos_, "parentheses nested too deeply");
      size_t open = pos_++;
      if (!parse_choices(out)) return false;
      if (peek() != ')') return fail(open, "unbalanced '('");
      ++pos_;
      --depth_;
      if (!out.atom && !out.re.empty()) out.re = "(?:" + out.re + ")";
      out.atom = !out.re.empty();
      return true;
    }
    size_t start = pos_, end = name_end(pos_);
    if (end == start) {
      if (eof()) return fail(pos_, "unexpected end of grammar");
      return fail(pos_, fmt::format("unexpected '{}'", c));
    }
    std::string_view name = s_.substr(start, end - start);
    pos_ = end;
    if (name == ".") {
      out = {};
      out.re = "(?s:.)";
      out.atom = true;
      out.node = add(Node::kTerm);
      return true;
    }
    for (std::string_view m : kMacros) {
      size_t i = pos_;
      while (i < s_.size() && (s_[i] == ' ' || s_[i] == '\t')) ++i;
      if (name == m && i < s_.size() && s_[i] == '(') {
        return fail(start, fmt::format("xgrammar macro '{}' is not supported", name));
      }
    }
    int r = rule_index(name);
    if (rules_[r].ref_at == kNone) rules_[r].ref_at = start;
    out = {};
    out.re = fmt::format("(?&r{})", r);
    out.atom = true;
    out.node = add(Node::kRef, false, r);
    out.ref = r;
    return true;
  }

  bool parse_string(Frag& out) {
    size_t open = pos_++;
    int count = 0;
    out.re.clear();
    while (peek() != '"') {
      if (eof() || peek() == '\n' || peek() == '\r') return fail(open, "unterminated string literal");
      uint32_t cp;
      if (!parse_char(cp, false)) return false;
      append_cp(out.re, cp);
      ++count;
    }
    ++pos_;
    out.atom = count == 1;
    out.node = add(Node::kTerm, count == 0);
    return true;
  }

  bool parse_class(Frag& out) {
    size_t open = pos_++;
    bool negated = peek() == '^';
    if (negated) ++pos_;
    std::string body;
    while (peek() != ']') {
      if (eof() || peek() == '\n' || peek() == '\r') return fail(open, "unterminated character class");
      if (peek() == '\\' && peek(1) != '\0' && std::string_view("dDsSwW").find(peek(1)) != kNone) {
        body += s_.substr(pos_, 2);
        pos_ += 2;
        continue;
      }
      size_t at = pos_;
      uint32_t lo, hi;
      if (!parse_char(lo, true)) return false;
      append_cp(body, lo);
      if (peek() == '-' && peek(1) != ']' && !eof(1)) {
        ++pos_;
        if (!parse_char(hi, true)) return false;
        if (hi < lo) return fail(at, "character range out of order");
        body += '-';
        append_cp(body, hi);
      }
    }
    ++pos_;
    // PCRE2 reads "[]" and "[^]" as the start of a class containing ']', so spell them out.
    if (body.empty()) {
      out.re = negated ? "(?s:.)" : "(?!)";
    } else {
      out.re = (negated ? "[^" : "[") + body + "]";
    }
    out.atom = true;
    out.node = add(Node::kTerm);
    return true;
  }

  // One character of a string or class: an escape or a UTF-8 sequence, as a code point.
  bool parse_char(uint32_t& cp, bool in_class) {
    size_t at = pos_;
    auto c = static_cast<unsigned char>(peek());
    if (c == '\\') {
      char e = peek(1);
      pos_ += 2;
      auto hex = [&](size_t min, size_t max) {
        cp = 0;
        size_t n = 0;
        for (; n < max && hex_value(peek()) >= 0; ++n) cp = cp * 16 + hex_value(s_[pos_++]);
        return n >= min || fail(at, "bad hex escape");
      };
      constexpr std::string_view kSimple = "'\"?\\abfnrtv0e", kValues("'\"?\\\a\b\f\n\r\t\v\0\x1b", 13);
      constexpr std::string_view kClassPunct = "^$.*+?()[]{}|/-";
      if (e == 'x') {
        if (!hex(1, 8)) return false;
      } else if (e == 'u') {
        if (!hex(4, 4)) return false;
      } else if (e == 'U') {
        if (!hex(8, 8)) return false;
      } else if (e != '\0' && kSimple.find(e) != kNone) {
        cp = static_cast<unsigned char>(kValues[kSimple.find(e)]);
      } else if (in_class && e != '\0' && kClassPunct.find(e) != kNone) {
        cp = static_cast<unsigned char>(e);
      } else {
        return fail(at, fmt::format("invalid escape '\\{}'", e));
      }
    } else {
      // UTF-8: the lead byte gives the length; the decoded value must need that length.
      int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
      constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
      cp = len == 1 ? c : len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
      for (int i = 1; i < len; ++i) {
        auto b = static_cast<unsigned char>(peek(i));
        if ((b & 0xC0) != 0x80) len = 0;
        cp = (cp << 6) | (b & 0x3F);
      }
      if (len == 0 || cp < kMin[len]) return fail(at, "invalid UTF-8");
      pos_ += len;
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return fail(at, "escape is not a valid code point");
    return true;
  }

  // Left recursion: a rule reachable from itself through calls made before any character is
  // consumed. PCRE2 compiles it, then fails every match (interpreter: "recursion loop", JIT: stack
  // limit), so report it here by name.
  bool nullable(int n, const std::vector<char>& rule_nullable) const {
    const Node& node = nodes_[n];
    auto kid_nullable = [&](int k) { return nullable(k, rule_nullable); };
    if (node.kind == Node::kTerm) return node.nullable;
    if (node.kind == Node::kRef) return rule_nullable[node.rule];
    if (node.kind == Node::kOpt) return true;
    if (node.kind == Node::kAlt) return std::any_of(node.kids.begin(), node.kids.end(), kid_nullable);
    return std::all_of(node.kids.begin(), node.kids.end(), kid_nullable);
  }

  void left_calls(int n, const std::vector<char>& rule_nullable, std::vector<int>& out) const {
    const Node& node = nodes_[n];
    if (node.kind == Node::kRef) out.push_back(node.rule);
    for (int k : node.kids) {
      left_calls(k, rule_nullable, out);
      if (node.kind == Node::kSeq && !nullable(k, rule_nullable)) break;
    }
  }

  bool check_left_recursion() {
    std::vector<char> rule_nullable(rules_.size(), 0);
    for (bool changed = true; changed;) {  // fixpoint: a rule is nullable if its body is
      changed = false;
      for (size_t r = 0; r < rules_.size(); ++r) {
        if (!rule_nullable[r] && nullable(rules_[r].node, rule_nullable)) rule_nullable[r] = changed = true;
      }
    }
    std::vector<std::vector<int>> calls(rules_.size());
    for (size_t r = 0; r < rules_.size(); ++r) left_calls(rules_[r].node, rule_nullable, calls[r]);
    std::vector<char> state(rules_.size(), 0);  // 0 new, 1 on the DFS path, 2 done
    std::vector<int> path;
    auto dfs = [&](auto& self, int r) -> bool {
      state[r] = 1;
      path.push_back(r);
      for (int next : calls[r]) {
        if (state[next] == 1) {
          std::string cycle;
          for (size_t i = 0; i < path.size(); ++i) {
            if (!cycle.empty() || path[i] == next) cycle += rules_[path[i]].name + " -> ";
          }
          return fail(rules_[next].def_at,
                      fmt::format("rule '{}' is left-recursive ({}{}); rewrite it with repetition",
                                  rules_[next].name, cycle, rules_[next].name));
        }
        if (state[next] == 0 && !self(self, next)) return false;
      }
      path.pop_back();
      state[r] = 2;
      return true;
    };
    for (size_t r = 0; r < rules_.size(); ++r) {
      if (state[r] == 0 && !dfs(dfs, static_cast<int>(r))) return false;
    }
    return true;
  }

  std::string_view s_;
  size_t pos_ = 0;
  int depth_ = 0;
  std::optional<Error> err_;
  std::vector<Rule> rules_;
  std::unordered_map<std::string, int> index_;
  std::vector<Node> nodes_;
  std::vector<std::string> hoisted_;  // bodies of repeated groups, called as (?&hN)
};

}  // namespace

Result<std::string> ebnf_to_regex(std::string_view grammar) { return Parser(grammar).run(); }

}  // namespace sgl::server
