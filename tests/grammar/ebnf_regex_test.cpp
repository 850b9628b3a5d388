// ebnf_to_regex: the emitted pattern, compiled the way the grammar constraint compiles it (UTF,
// anchored, `\z` at the end since PCRE2 refuses ENDANCHORED with partial matching, JIT for hard
// partial matching, the same match limit and JIT stack), accepts exactly the grammar's sentences,
// and reports every prefix of one as a partial match, through recursive subroutine calls too.
#include "server/grammar/ebnf_regex.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "server/grammar/grammar_constraint.h"
#include "server/text/pcre2_code.h"

namespace sgl::server {
namespace {

enum class Verdict { kFull, kPartial, kNone, kError };

const char* name(Verdict v) {
  switch (v) {
    case Verdict::kFull:
      return "full";
    case Verdict::kPartial:
      return "partial";
    case Verdict::kNone:
      return "none";
    case Verdict::kError:
      return "error";
  }
  return "?";
}

class Compiled {
 public:
  explicit Compiled(const std::string& grammar) {
    auto re = ebnf_to_regex(grammar);
    if (!re.ok()) {
      error_ = re.error().message;
      return;
    }
    pattern_ = *re;
    size_t off = 0;
    code_ = compile_grammar_pattern(pattern_, error_, off);
    if (code_ == nullptr) {
      error_ = "pcre2_compile: " + error_ + " at " + std::to_string(off);
      return;
    }
    data_ = pcre2_match_data_create_from_pattern(code_->code, nullptr);
    ctx_ = pcre2_match_context_create(nullptr);
    stack_ = pcre2_jit_stack_create(32u << 10, 8u << 20, nullptr);
    pcre2_set_match_limit(ctx_, 2'000'000);
    pcre2_jit_stack_assign(ctx_, nullptr, stack_);
  }
  ~Compiled() {
    pcre2_jit_stack_free(stack_);
    pcre2_match_context_free(ctx_);
    pcre2_match_data_free(data_);
  }
  Compiled(const Compiled&) = delete;
  Compiled& operator=(const Compiled&) = delete;

  bool ok() const { return code_ != nullptr && code_->jit; }
  const std::string& error() const { return error_; }
  const std::string& pattern() const { return pattern_; }

  // One text, matched complete or hard-partial, by the JIT or the interpreter.
  Verdict match(const std::string& text, bool partial, bool jit) const {
    uint32_t opts = (partial ? PCRE2_PARTIAL_HARD : 0) | (jit ? 0 : PCRE2_NO_JIT);
    int rc = pcre2_match(code_->code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), 0, opts, data_,
                         ctx_);
    if (rc > 0) return Verdict::kFull;
    if (rc == PCRE2_ERROR_PARTIAL) return Verdict::kPartial;
    if (rc == PCRE2_ERROR_NOMATCH) return Verdict::kNone;
    return Verdict::kError;
  }

 private:
  std::string error_, pattern_;
  std::shared_ptr<const text::Pcre2Code> code_;
  pcre2_match_data* data_ = nullptr;
  pcre2_match_context* ctx_ = nullptr;
  pcre2_jit_stack* stack_ = nullptr;
};

// Both engines: a sentence matches complete; each proper prefix (cut at code point boundaries) is
// viable under hard partial matching, i.e. partial, or complete when the prefix is itself a sentence.
void expect_sentence(const Compiled& c, const std::string& text) {
  for (bool jit : {true, false}) {
    SCOPED_TRACE(std::string(jit ? "jit" : "interpreter") + ", text: " + text);
    EXPECT_EQ(name(c.match(text, false, jit)), std::string("full"));
    for (size_t n = 0; n < text.size(); ++n) {
      if ((static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) continue;
      Verdict v = c.match(text.substr(0, n), true, jit);
      EXPECT_TRUE(v == Verdict::kPartial || v == Verdict::kFull)
          << "prefix '" << text.substr(0, n) << "': " << name(v);
    }
  }
}

// Both engines: not a sentence, and (hard partial) not a prefix of one either.
void expect_dead(const Compiled& c, const std::string& text) {
  for (bool jit : {true, false}) {
    SCOPED_TRACE(std::string(jit ? "jit" : "interpreter") + ", text: " + text);
    EXPECT_EQ(name(c.match(text, false, jit)), std::string("none"));
    EXPECT_EQ(name(c.match(text, true, jit)), std::string("none"));
  }
}

// Both engines: a viable prefix that is not a sentence.
void expect_prefix_only(const Compiled& c, const std::string& text) {
  for (bool jit : {true, false}) {
    SCOPED_TRACE(std::string(jit ? "jit" : "interpreter") + ", text: " + text);
    EXPECT_EQ(name(c.match(text, false, jit)), std::string("none"));
    EXPECT_EQ(name(c.match(text, true, jit)), std::string("partial"));
  }
}

std::string error_of(const std::string& grammar) {
  auto re = ebnf_to_regex(grammar);
  if (re.ok()) return "(no error; pattern " + *re + ")";
  EXPECT_EQ(re.error().code, ErrorCode::kInvalidArgument);
  return re.error().message;
}

// xgrammar's builtin JSON grammar (value/object/array/string/number), right-recursive strings.
constexpr const char* kJson = R"(
root ::= basic_array | basic_object
basic_any ::= basic_number | basic_string | basic_boolean | basic_null | basic_array | basic_object
basic_integer ::= ("0" | "-"? [1-9] [0-9]*) ".0"?
basic_number ::= ("0" | "-"? [1-9] [0-9]*) ("." [0-9]+)? ([eE] [+-]? [0-9]+)?
basic_string ::= (([\"] basic_string_1 [\"]))
basic_string_1 ::= "" | [^"\\\x00-\x1F] basic_string_1 | "\\" escape basic_string_1
escape ::= ["\\/bfnrt] | "u" [A-Fa-f0-9] [A-Fa-f0-9] [A-Fa-f0-9] [A-Fa-f0-9]
basic_boolean ::= "true" | "false"
basic_null ::= "null"
basic_array ::= "[" ("" | ws basic_any (ws "," ws basic_any)*) ws "]"
basic_object ::= "{" ("" | ws basic_string ws ":" ws basic_any ( ws "," ws basic_string ws ":" ws basic_any)*) ws "}"
ws ::= [ \n\t]*
)";

TEST(EbnfRegex, Alternatives) {
  Compiled c(R"(root ::= "yes" | "no")");
  ASSERT_TRUE(c.ok()) << c.error();
  expect_sentence(c, "yes");
  expect_sentence(c, "no");
  expect_dead(c, "yess");
  expect_dead(c, "ye!");
  expect_dead(c, "n0");
  expect_prefix_only(c, "ye");
}

TEST(EbnfRegex, SequenceAndPostfixOperators) {
  Compiled c(R"(root ::= "a" "b"* ("c" "d")+ "e"?)");
  ASSERT_TRUE(c.ok()) << c.error();
  expect_sentence(c, "acd");
  expect_sentence(c, "abbbcdcde");
  expect_dead(c, "ae");
  expect_dead(c, "acdd");
  expect_prefix_only(c, "abbc");
}

TEST(EbnfRegex, BoundedRepetition) {
  Compiled c(R"(root ::= [0-9]{2} "-" [a-z]{1,3} "-" "x"{2,} "-" ("ab" | "cd"){0,2} "."
)");
  ASSERT_TRUE(c.ok()) << c.error();
  expect_sentence(c, "12-a-xx-.");
  expect_sentence(c, "12-abc-xxxxx-abcd.");
  expect_dead(c, "1-");
  expect_dead(c, "12-abcd");
  expect_dead(c, "12-a-x-");
  expect_dead(c, "12-a-xx-ababab");
}

TEST(EbnfRegex, LongRepeatedGroupIsHoistedIntoACall) {
  // PCRE2 copies the body of {m,n} per count; a long body must not blow the pattern size limit.
  std::string body = "(\"alpha\" | \"beta\" | \"gamma\" | \"delta\" [0-9]+ \",\")";
  Compiled c("root ::= " + body + "{0,3000}\n");
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_NE(c.pattern().find("(?&h0){0,3000}"), std::string::npos) << c.pattern();
  expect_sentence(c, "alphadelta12,beta");
  std::string long_text;
  for (int i = 0; i < 3000; ++i) long_text += "beta";
  EXPECT_EQ(name(c.match(long_text, false, false)), std::string("full"));
  EXPECT_EQ(name(c.match(long_text + "beta", false, false)), std::string("none"));
}

TEST(EbnfRegex, CharacterClasses) {
  Compiled c(R"(root ::= [a-zA-Z_] [a-z0-9_\-]* [^"\\\n] [\]\\^-] [\x41-\x43\u00e9]
)");
  ASSERT_TRUE(c.ok()) << c.error();
  expect_sentence(c, "_a-9!]B");
  expect_sentence(c, "Zz^\\\xc3\xa9");     // "Zz^\é"
  expect_sentence(c, "ab\xe2\x82\xac-A");  // a negated class takes non-ASCII ("€")
  expect_dead(c, "9");
  expect_dead(c, "ab\"");
  expect_dead(c, "a\\");
  expect_dead(c, "ab\n");
  expect_dead(c, "abc]D");
}

TEST(EbnfRegex, StringEscapesAndMetacharacters) {
  // Every regex metacharacter in a literal is literal; escapes decode to their characters.
  Compiled c(R"(root ::= ".*+?()[]{}|^$/" "\n\t\"\\" "\x41\u00e9\U0001F600" " " "\x7e")");
  ASSERT_TRUE(c.ok()) << c.error();
  expect_sentence(c, ".*+?()[]{}|^$/\n\t\"\\A\xc3\xa9\xf0\x9f\x98\x80 ~");
  expect_dead(c, "x");
  expect_dead(c, ".*+?()[]{}|^$/\n\t\"\\B");
}

TEST(EbnfRegex, UnicodeLiteralsAndRanges) {
  Compiled c("root ::= \"h\xc3\xa9llo \" [\xce\xb1-\xcf\x89]+ \" \xe2\x9c\x93\"\n");  // "héllo " [α-ω]+ " ✓"
  ASSERT_TRUE(c.ok()) << c.error();
  expect_sentence(c, "h\xc3\xa9llo \xce\xbb\xce\xb1 \xe2\x9c\x93");
  expect_dead(c, "hello");
  expect_dead(c, "h\xc3\xa9llo A");
}

TEST(EbnfRegex, AnyCharacterDot) {
  Compiled c(R"(root ::= "<" . . ">")");
  ASSERT_TRUE(c.ok()) << c.error();
  expect_sentence(c, "<\n\xe2\x82\xac>");
  expect_dead(c, "<a>b");
}

TEST(EbnfRegex, MultiLineRulesCommentsAndDashedNames) {
  Compiled c(R"(# a greeting grammar
root ::= greeting-word   # first
         sep.x
         ( "world"
         | "there" )   # closes the group
greeting-word ::= "hello" |
                  "hi"
sep.x ::= ", "?
)");
  ASSERT_TRUE(c.ok()) << c.error();
  expect_sentence(c, "hello, world");
  expect_sentence(c, "hithere");
  expect_dead(c, "hello,world");
  expect_prefix_only(c, "hi, ");
}

TEST(EbnfRegex, BalancedParenthesesRecursion) {
  Compiled c(R"g(
root ::= pair+
pair ::= "(" root? ")" | "[" root? "]"
)g");
  ASSERT_TRUE(c.ok()) << c.error();
  expect_sentence(c, "()");
  expect_sentence(c, "(()[()])[]");
  expect_sentence(c, "((((((((((()))))))))))");
  // Prefixes that end deep inside the recursion are partial, not complete.
  expect_prefix_only(c, "((((([");
  expect_prefix_only(c, "(()[(");
  expect_dead(c, "(]");
  expect_dead(c, "(()))");
  expect_dead(c, "(()[)]");
  expect_dead(c, ")");
}

TEST(EbnfRegex, JsonGrammarAcceptsValidDocuments) {
  Compiled c(kJson);
  ASSERT_TRUE(c.ok()) << c.error();
  expect_sentence(c, "{}");
  expect_sentence(c, "[]");
  expect_sentence(c, R"({"a": 1, "b": [true, false, null], "c": {"d": "x\"y\u00e9"}})");
  expect_sentence(c, "[ -1.5e+10 , 12, \"caf\xc3\xa9\", [[{}]] ]");
  expect_sentence(c, "{\n\t\"k\" : [1.0]\n}");
}

TEST(EbnfRegex, JsonGrammarRejectsInvalidPrefixes) {
  Compiled c(kJson);
  ASSERT_TRUE(c.ok()) << c.error();
  expect_prefix_only(c, R"({"a": [1, {"b": "te)");  // ends inside a string nested three levels
  expect_prefix_only(c, R"([[[[[)");
  expect_prefix_only(c, R"({"a": tr)");
  expect_dead(c, R"({"a": 01)");
  expect_dead(c, R"({"a" 1)");
  expect_dead(c, R"([1,])");
  expect_dead(c, R"({"a": "\q")");
  expect_dead(c, "[\"a\nb\"]");  // raw control character in a string
  expect_dead(c, R"(["a"]])");
  expect_dead(c, "\"top-level string\"");
}

TEST(EbnfRegex, JsonGrammarHandlesLongStrings) {
  // basic_string_1 recurses once per character; emitted as a loop, 50k characters stay within the
  // match limit and JIT stack (as recursion they took PCRE2 quadratic time, seconds here).
  Compiled c(kJson);
  ASSERT_TRUE(c.ok()) << c.error();
  // basic_string_1's group is called once (by basic_string), not by itself.
  const std::string& p = c.pattern();
  size_t def = p.find(">(?#basic_string_1)");
  ASSERT_NE(def, std::string::npos) << p;
  std::string call = "(?&" + p.substr(p.rfind("(?<", def) + 3, def - p.rfind("(?<", def) - 3) + ")";
  size_t calls = 0;
  for (size_t at = p.find(call); at != std::string::npos; at = p.find(call, at + 1)) ++calls;
  EXPECT_EQ(calls, 1u) << call << " in " << p;
  std::string text = "[\"" + std::string(50000, 'x') + "\\n\"]";
  for (bool jit : {true, false}) {
    EXPECT_EQ(name(c.match(text, false, jit)), std::string("full")) << (jit ? "jit" : "interpreter");
    EXPECT_EQ(name(c.match(text.substr(0, text.size() - 2), true, jit)), std::string("partial"));
  }
}

TEST(EbnfRegex, TailRecursionBecomesALoop) {
  // `a ::= P a | Q` is emitted as (?:P)*Q; P may itself call the rule (here: nested pairs).
  Compiled c(R"g(
root ::= "(" root ")" root | "[" digits "]" root | ""
digits ::= [0-9] digits | [0-9]
)g");
  ASSERT_TRUE(c.ok()) << c.error();
  expect_sentence(c, "");
  expect_sentence(c, "()(())[12](()[3])");
  expect_sentence(c, "[0123456789]");
  expect_prefix_only(c, "(()[1");
  expect_dead(c, "[]");
  expect_prefix_only(c, "(()");
  expect_dead(c, "(()]");
  expect_dead(c, "())");
  expect_dead(c, "[1a]");
}

TEST(EbnfRegex, EmptyAlternativesAndGroups) {
  Compiled c(R"(root ::= "a" ( ) "" ("b" | ) "c"?)");
  ASSERT_TRUE(c.ok()) << c.error();
  expect_sentence(c, "a");
  expect_sentence(c, "abc");
  expect_sentence(c, "ac");
  expect_dead(c, "abb");
}

TEST(EbnfRegex, ErrorMissingRoot) {
  EXPECT_EQ(error_of(R"(start ::= "x")"), "ebnf: line 1, column 1: the grammar has no 'root' rule");
  EXPECT_NE(error_of("# only a comment\n").find("no 'root' rule"), std::string::npos);
}

TEST(EbnfRegex, ErrorUndefinedRule) {
  EXPECT_EQ(error_of("root ::= \"a\" item\nitem ::= \"b\" missing-rule \"c\"\n"),
            "ebnf: line 2, column 14: undefined rule 'missing-rule'");
}

TEST(EbnfRegex, ErrorUnterminatedString) {
  EXPECT_EQ(error_of("root ::= \"abc\nfoo ::= \"x\"\n"),
            "ebnf: line 1, column 10: unterminated string literal");
  EXPECT_EQ(error_of(R"(root ::= "abc\")"), "ebnf: line 1, column 10: unterminated string literal");
  EXPECT_EQ(error_of(R"(root ::= [abc)"), "ebnf: line 1, column 10: unterminated character class");
}

TEST(EbnfRegex, ErrorBadAssignment) {
  EXPECT_EQ(error_of("root ::= \"a\"\nnext = \"b\"\n"), "ebnf: line 2, column 6: unexpected '='");
  EXPECT_EQ(error_of("root := \"a\""), "ebnf: line 1, column 6: expected '::='");
  EXPECT_EQ(error_of("root ::= \"a\" b ::= \"c\""),
            "ebnf: line 1, column 14: a rule name must be the first token on its line");
}

TEST(EbnfRegex, ErrorLeftRecursion) {
  EXPECT_EQ(
      error_of("root ::= root \"x\" | \"y\""),
      "ebnf: line 1, column 1: rule 'root' is left-recursive (root -> root); rewrite it with repetition");
  // Indirect, through a rule that can match "" first.
  EXPECT_EQ(
      error_of("root ::= \"<\" expr \">\"\nexpr ::= ws term\nterm ::= expr \"+\" | [0-9]\nws ::= \" \"*\n"),
      "ebnf: line 2, column 1: rule 'expr' is left-recursive (expr -> term -> expr); rewrite it with "
      "repetition");
  // Right recursion and recursion after a consumed character are fine.
  EXPECT_TRUE(ebnf_to_regex("root ::= \"x\" root | \"y\"").ok());
  EXPECT_TRUE(ebnf_to_regex("root ::= \"(\" root \")\" | \"\"").ok());
}

TEST(EbnfRegex, ErrorBadEscapesRangesAndUnsupportedSyntax) {
  EXPECT_EQ(error_of(R"(root ::= "a\qb")"), "ebnf: line 1, column 12: invalid escape '\\q'");
  EXPECT_EQ(error_of(R"(root ::= [z-a])"), "ebnf: line 1, column 11: character range out of order");
  EXPECT_EQ(error_of(R"(root ::= "\uD800")"), "ebnf: line 1, column 11: escape is not a valid code point");
  EXPECT_EQ(error_of(R"(root ::= "a"{3,2})"), "ebnf: line 1, column 13: repetition range with max < min");
  EXPECT_EQ(error_of("root ::= \"a\" (= \"b\")"),
            "ebnf: line 1, column 14: lookahead assertions '(= ...)' are not supported");
  EXPECT_EQ(error_of("root ::= TagDispatch((\"<a>\", x))\nx ::= \"y\""),
            "ebnf: line 1, column 10: xgrammar macro 'TagDispatch' is not supported");
  EXPECT_EQ(error_of("root ::= (\"a\" \"b\""), "ebnf: line 1, column 10: unbalanced '('");
  EXPECT_EQ(error_of("root ::= \"a\"\nroot ::= \"b\""),
            "ebnf: line 2, column 1: rule 'root' is defined twice");
}

}  // namespace
}  // namespace sgl::server
