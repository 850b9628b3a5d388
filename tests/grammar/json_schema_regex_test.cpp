// json_schema_to_regex: the pattern, compiled as the grammar constraint compiles it, admits exactly the
// schema's instances, every prefix of one as a partial match, and works with pcre2_dfa_match (no recursion).
#include "server/grammar/json_schema_regex.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "server/grammar/grammar_constraint.h"
#include "server/text/pcre2_code.h"

namespace sgl::server {
namespace {

// Compiled as the grammar constraint compiles it: anchored at the start, `\z` at the end (PCRE2
// refuses PCRE2_ENDANCHORED with partial matching), JIT-compiled for complete and partial-hard
// matching. Every match runs both through the JIT and the interpreter, which must agree.
class Matcher {
 public:
  explicit Matcher(const std::string& pattern) {
    size_t offset = 0;
    code_ = compile_grammar_pattern(pattern, error_, offset);
    if (!code_) return;
    data_ = pcre2_match_data_create(32, nullptr);
    ctx_ = pcre2_match_context_create(nullptr);
    stack_ = pcre2_jit_stack_create(32u << 10, 8u << 20, nullptr);
    pcre2_jit_stack_assign(ctx_, nullptr, stack_);
    pcre2_set_match_limit(ctx_, 2'000'000);
  }
  ~Matcher() {
    pcre2_jit_stack_free(stack_);
    pcre2_match_context_free(ctx_);
    pcre2_match_data_free(data_);
  }
  Matcher(const Matcher&) = delete;
  Matcher& operator=(const Matcher&) = delete;

  bool compiled() const { return code_ != nullptr; }
  const std::string& error() const { return error_; }

  int match(std::string_view s, uint32_t options = 0) const {
    auto subject = reinterpret_cast<PCRE2_SPTR>(s.data());
    int jit = pcre2_match(code_->code, subject, s.size(), 0, options, data_, ctx_);
    int interp = pcre2_match(code_->code, subject, s.size(), 0, options | PCRE2_NO_JIT, data_, ctx_);
    EXPECT_EQ(jit, interp) << "JIT and interpreter disagree on: " << s;
    return interp;
  }
  bool full(std::string_view s) const { return match(s) >= 0; }
  // A viable prefix: a complete match or a partial one that reached the end of the text.
  bool viable(std::string_view s) const {
    int rc = match(s, PCRE2_PARTIAL_HARD);
    return rc >= 0 || rc == PCRE2_ERROR_PARTIAL;
  }
  int dfa(std::string_view s) const {
    std::vector<int> workspace(1 << 14);
    return pcre2_dfa_match(code_->code, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), 0, 0, data_, ctx_,
                           workspace.data(), workspace.size());
  }

 private:
  std::shared_ptr<const text::Pcre2Code> code_;
  pcre2_match_data* data_ = nullptr;
  pcre2_match_context* ctx_ = nullptr;
  pcre2_jit_stack* stack_ = nullptr;
  std::string error_;
};

std::unique_ptr<Matcher> compile(std::string_view schema) {
  auto re = json_schema_to_regex(schema);
  EXPECT_TRUE(re.ok()) << (re.ok() ? "" : re.error().message);
  if (!re.ok()) return nullptr;
  auto m = std::make_unique<Matcher>(*re);
  EXPECT_TRUE(m->compiled()) << m->error() << " (pattern size " << re->size() << ")";
  return m->compiled() ? std::move(m) : nullptr;
}

// Every non-empty prefix ending on a character boundary must stay viable (PCRE2 reports no
// partial match for an empty subject; the constraint never asks about one).
void expect_prefixes_viable(const Matcher& m, std::string_view text) {
  for (size_t n = 1; n <= text.size(); ++n) {
    if (n < text.size() && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) continue;
    EXPECT_TRUE(m.viable(text.substr(0, n))) << "prefix: " << text.substr(0, n);
  }
}

std::string error_of(std::string_view schema) {
  auto re = json_schema_to_regex(schema);
  EXPECT_FALSE(re.ok()) << "schema accepted: " << schema;
  return re.ok() ? "" : re.error().message;
}

constexpr std::string_view kPerson = R"({
  "type": "object",
  "properties": {
    "name": {"type": "string"},
    "age": {"type": "integer"},
    "email": {"type": "string", "format": "email"}
  },
  "required": ["name", "age"]
})";

TEST(JsonSchemaRegex, ObjectAcceptsInstances) {
  auto m = compile(kPerson);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->full(R"({"name":"Ann","age":31})"));
  EXPECT_TRUE(m->full(R"({"name":"Ann","age":31,"email":"ann@example.com"})"));
  EXPECT_TRUE(m->full("{\n  \"name\": \"Ann\",\n  \"age\": -3\n}\n"));
  EXPECT_TRUE(m->full(R"(  {"name":"","age":0}  )"));
}

TEST(JsonSchemaRegex, ObjectRejectsInvalidInstances) {
  auto m = compile(kPerson);
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->full(R"({"name":"Ann"})")) << "missing required";
  EXPECT_FALSE(m->full(R"({"name":"Ann","age":31,"x":1})")) << "extra key";
  EXPECT_FALSE(m->full(R"({"name":"Ann","age":"31"})")) << "wrong type";
  EXPECT_FALSE(m->full(R"({"name":"Ann","age":3.5})")) << "not an integer";
  EXPECT_FALSE(m->full(R"({"name":"Ann","age":31}x)")) << "trailing garbage";
  EXPECT_FALSE(m->full(R"({"name":"Ann","age":31,})")) << "trailing comma";
  EXPECT_FALSE(m->full(R"({"name":"A"nn","age":31})")) << "unescaped quote";
  EXPECT_FALSE(m->full(R"({"name":"Ann","age":31,"email":"not-an-email"})"));
  EXPECT_FALSE(m->full(R"([])"));
}

TEST(JsonSchemaRegex, OptionalMembersGetCommasRightInEveryCombination) {
  // a optional, b required, c optional.
  auto m = compile(R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"},
                      "c":{"type":"integer"}},"required":["b"]})");
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->full(R"({"b":2})"));
  EXPECT_TRUE(m->full(R"({"a":1,"b":2})"));
  EXPECT_TRUE(m->full(R"({"b":2,"c":3})"));
  EXPECT_TRUE(m->full(R"({"a":1,"b":2,"c":3})"));
  EXPECT_FALSE(m->full(R"({"a":1})"));
  EXPECT_FALSE(m->full(R"({,"b":2})"));
  EXPECT_FALSE(m->full(R"({"a":1"b":2})"));
  EXPECT_FALSE(m->full(R"({"b":2,"a":1})")) << "schema order";
}

TEST(JsonSchemaRegex, AllOptionalMembersAcceptEverySubsetInOrder) {
  auto m = compile(R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"},
                      "c":{"type":"integer"}}})");
  ASSERT_TRUE(m);
  const char* names[] = {"a", "b", "c"};
  for (int mask = 0; mask < 8; ++mask) {
    std::string text = "{";
    for (int i = 0; i < 3; ++i) {
      if (!(mask & (1 << i))) continue;
      if (text.size() > 1) text += ", ";
      text += std::string("\"") + names[i] + "\": " + std::to_string(i);
    }
    text += "}";
    EXPECT_TRUE(m->full(text)) << text;
    expect_prefixes_viable(*m, text);
  }
  EXPECT_FALSE(m->full(R"({,})"));
  EXPECT_FALSE(m->full(R"({"a":1,})"));
  EXPECT_FALSE(m->full(R"({,"c":1})"));
  EXPECT_FALSE(m->full(R"({"a":1,,"c":1})"));
  EXPECT_FALSE(m->full(R"({"a":1,"a":1})"));
}

TEST(JsonSchemaRegex, WhitespaceIsCapped) {
  auto m = compile(R"({"type":"array","items":{"type":"integer"}})");
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->full("[1,\n\t 2]"));
  EXPECT_TRUE(m->full("[" + std::string(20, ' ') + "1]"));
  EXPECT_FALSE(m->full("[" + std::string(21, ' ') + "1]"));
  EXPECT_FALSE(m->viable("[" + std::string(21, '\n'))) << "a model looping on newlines is stopped";
  EXPECT_FALSE(m->full("[1,\r2]")) << "only space, newline and tab";
}

TEST(JsonSchemaRegex, StringEscapesAndControlCharacters) {
  auto m = compile(R"({"type":"string"})");
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->full(R"("plain")"));
  EXPECT_TRUE(m->full(R"("q\"uote \\ \/ \b\f\n\r\t")"));
  EXPECT_TRUE(m->full(R"("\u00e9\uD83D\uDE00")"));
  EXPECT_TRUE(m->full("\"caf\xC3\xA9 \xF0\x9F\x98\x80\""));
  EXPECT_FALSE(m->full("\"line\nbreak\""));
  EXPECT_FALSE(m->full(R"("a"b")"));
  EXPECT_FALSE(m->full(R"("\x41")"));
  EXPECT_FALSE(m->full(R"("\u12G4")"));
  EXPECT_FALSE(m->full(R"("unterminated)"));
}

TEST(JsonSchemaRegex, StringLengthCountsCharacters) {
  auto m = compile(R"({"type":"string","minLength":2,"maxLength":3})");
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->full(R"("a")"));
  EXPECT_TRUE(m->full(R"("ab")"));
  EXPECT_TRUE(m->full("\"\xC3\xA9\xC3\xA9\xC3\xA9\"")) << "three two-byte characters";
  EXPECT_TRUE(m->full(R"("\n\u0041b")")) << "escapes are one character";
  EXPECT_FALSE(m->full(R"("abcd")"));
  EXPECT_FALSE(m->viable(R"("abcd)"));
}

TEST(JsonSchemaRegex, StringPatternConstrainsTheContents) {
  auto m = compile(R"({"type":"object","properties":{"code":{"type":"string","pattern":"^[A-Z]{2}-[0-9]+$"}},
                      "required":["code"]})");
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->full(R"({"code":"AB-12"})"));
  EXPECT_FALSE(m->full(R"({"code":"ab-12"})"));
  EXPECT_FALSE(m->full(R"({"code":"AB-"})"));
  auto dollar = compile(R"({"type":"string","pattern":"^US\\$$"})");
  ASSERT_TRUE(dollar);
  EXPECT_TRUE(dollar->full(R"("US$")")) << "an escaped dollar is content, not an anchor";
}

TEST(JsonSchemaRegex, StringFormats) {
  auto dt = compile(R"({"type":"string","format":"date-time"})");
  auto date = compile(R"({"type":"string","format":"date"})");
  auto time = compile(R"({"type":"string","format":"time"})");
  auto uuid = compile(R"({"type":"string","format":"uuid"})");
  auto email = compile(R"({"type":"string","format":"email"})");
  auto other = compile(R"({"type":"string","format":"hostname"})");
  ASSERT_TRUE(dt && date && time && uuid && email && other);
  EXPECT_TRUE(dt->full(R"("2024-02-29T13:05:00Z")"));
  EXPECT_TRUE(dt->full(R"("2024-02-29T13:05:00.123+05:30")"));
  EXPECT_FALSE(dt->full(R"("2024-02-29 13:05:00Z")"));
  EXPECT_FALSE(dt->full(R"("2024-13-01T00:00:00Z")"));
  EXPECT_TRUE(date->full(R"("1999-12-31")"));
  EXPECT_FALSE(date->full(R"("1999-12-32")"));
  EXPECT_TRUE(time->full(R"("23:59:59")"));
  EXPECT_FALSE(time->full(R"("24:00:00")"));
  EXPECT_TRUE(uuid->full(R"("123e4567-e89b-12d3-a456-426614174000")"));
  EXPECT_FALSE(uuid->full(R"("123e4567-e89b-12d3-a456-42661417400")"));
  EXPECT_TRUE(email->full(R"("first.last+tag@mail.example.org")"));
  EXPECT_FALSE(email->full(R"("no-at-sign.example.org")"));
  EXPECT_TRUE(other->full(R"("anything goes")")) << "unknown formats are ignored";
}

TEST(JsonSchemaRegex, IntegersAndNumbers) {
  auto i = compile(R"({"type":"integer"})");
  auto n = compile(R"({"type":"number"})");
  ASSERT_TRUE(i && n);
  for (const char* ok : {"0", "-7", "1234567890"}) EXPECT_TRUE(i->full(ok)) << ok;
  for (const char* bad : {"01", "+1", "1.0", "1e3", "-", "--1", " 1 x"}) EXPECT_FALSE(i->full(bad)) << bad;
  for (const char* ok : {"0", "-0.5", "3.25", "1e10", "2.5E-3", "-1e+2"}) EXPECT_TRUE(n->full(ok)) << ok;
  for (const char* bad : {".5", "1.", "01.5", "1e", "NaN", "Infinity"}) EXPECT_FALSE(n->full(bad)) << bad;
}

TEST(JsonSchemaRegex, NonNegativeMinimumDropsTheMinusSign) {
  auto m = compile(R"({"type":"integer","minimum":0})");
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->full("42"));
  EXPECT_FALSE(m->viable("-"));
  auto neg = compile(R"({"type":"number","minimum":-5})");
  ASSERT_TRUE(neg);
  EXPECT_TRUE(neg->full("-2.5"));
}

TEST(JsonSchemaRegex, BooleanNullAndTypeLists) {
  auto b = compile(R"({"type":"boolean"})");
  auto opt = compile(R"({"type":["string","null"]})");
  auto nullable = compile(R"({"type":"integer","nullable":true})");
  ASSERT_TRUE(b && opt && nullable);
  EXPECT_TRUE(b->full("true"));
  EXPECT_TRUE(b->full("false"));
  EXPECT_FALSE(b->full("True"));
  EXPECT_TRUE(opt->full("null"));
  EXPECT_TRUE(opt->full(R"("x")"));
  EXPECT_FALSE(opt->full("1"));
  EXPECT_TRUE(nullable->full("null"));
  EXPECT_TRUE(nullable->full("5"));
}

TEST(JsonSchemaRegex, EnumAndConstUseExactSerializations) {
  auto e = compile(R"({"enum":["red","a.b",1,null,true,[1,2],{"k":"v"}]})");
  ASSERT_TRUE(e);
  for (const char* ok : {R"("red")", R"("a.b")", "1", "null", "true", "[1,2]", R"({"k":"v"})"}) {
    EXPECT_TRUE(e->full(ok)) << ok;
  }
  for (const char* bad : {R"("blue")", R"("aXb")", "2", "false", "[1, 2]", R"("red)"}) {
    EXPECT_FALSE(e->full(bad)) << bad;
  }
  auto typed = compile(R"({"type":"string","enum":["x",1]})");
  ASSERT_TRUE(typed);
  EXPECT_TRUE(typed->full(R"("x")"));
  EXPECT_FALSE(typed->full("1")) << "enum values of other types drop out";
  auto c = compile(R"({"const":"say \"hi\""})");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->full(R"("say \"hi\"")"));
  EXPECT_FALSE(c->full(R"("say hi")"));
}

TEST(JsonSchemaRegex, ArrayItemBounds) {
  auto m = compile(R"({"type":"array","items":{"type":"string"},"minItems":1,"maxItems":3})");
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->full("[]"));
  EXPECT_TRUE(m->full(R"(["a"])"));
  EXPECT_TRUE(m->full(R"(["a", "b", "c"])"));
  EXPECT_FALSE(m->full(R"(["a","b","c","d"])")) << "too many items";
  EXPECT_FALSE(m->viable(R"(["a","b","c",)"));
  EXPECT_FALSE(m->full(R"(["a",1])"));
  EXPECT_FALSE(m->full(R"(["a",])"));
  auto empty_ok = compile(R"({"type":"array","items":{"type":"integer"}})");
  ASSERT_TRUE(empty_ok);
  EXPECT_TRUE(empty_ok->full("[ ]"));
  EXPECT_TRUE(empty_ok->full("[1,2,3,4,5,6,7]"));
}

TEST(JsonSchemaRegex, PrefixItemsFormATuple) {
  auto m = compile(R"({"type":"array","prefixItems":[{"type":"string"},{"type":"integer"}]})");
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->full(R"(["x", 1])"));
  EXPECT_FALSE(m->full(R"([1, "x"])"));
  EXPECT_FALSE(m->full(R"(["x", 1, 2])")) << "no extra items without an `items` schema";
  auto more = compile(R"({"type":"array","prefixItems":[{"type":"string"}],"items":{"type":"integer"},
                         "maxItems":3})");
  ASSERT_TRUE(more);
  EXPECT_TRUE(more->full(R"(["x"])"));
  EXPECT_TRUE(more->full(R"(["x",1,2])"));
  EXPECT_FALSE(more->full(R"(["x",1,2,3])"));
}

TEST(JsonSchemaRegex, FreeFormJsonNestsThreeDeep) {
  auto m = compile("{}");
  ASSERT_TRUE(m);
  for (const char* ok : {"1", R"("s")", "null", "[]", "{}", R"({"a":[1,{"b":null}],"c":"d"})", "[[[1]]]"}) {
    EXPECT_TRUE(m->full(ok)) << ok;
  }
  EXPECT_FALSE(m->full("[[[[1]]]]")) << "deeper than the free-form depth";
  EXPECT_FALSE(m->full("[1,]"));
  EXPECT_FALSE(m->full(R"({"a"})"));
  auto t = compile("true");
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->full(R"({"x":[true]})"));
}

TEST(JsonSchemaRegex, ObjectsWithoutProperties) {
  auto typed = compile(R"({"type":"object","additionalProperties":{"type":"integer"}})");
  auto closed = compile(R"({"type":"object","additionalProperties":false})");
  auto open = compile(R"({"type":"object"})");
  auto no_extras = compile(R"({"type":"object","properties":{"a":{"type":"integer"}},
                              "additionalProperties":true})");
  ASSERT_TRUE(typed && closed && open && no_extras);
  EXPECT_TRUE(typed->full(R"({"x":1,"y z":2})"));
  EXPECT_FALSE(typed->full(R"({"x":"1"})"));
  EXPECT_TRUE(closed->full("{ }"));
  EXPECT_FALSE(closed->full(R"({"x":1})"));
  EXPECT_TRUE(open->full(R"({"x":{"y":[1,"2"]}})"));
  EXPECT_FALSE(open->full("[]"));
  EXPECT_FALSE(no_extras->full(R"({"a":1,"b":2})")) << "declared properties close the object";
}

TEST(JsonSchemaRegex, AnyOfOneOfAndAllOf) {
  auto any = compile(R"({"anyOf":[{"type":"integer"},{"type":"string","maxLength":2}]})");
  auto one = compile(R"({"oneOf":[{"type":"boolean"},{"type":"null"}]})");
  auto all = compile(R"({"allOf":[{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]},
                                  {"properties":{"b":{"type":"string"}},"required":["b"]}]})");
  ASSERT_TRUE(any && one && all);
  EXPECT_TRUE(any->full("12"));
  EXPECT_TRUE(any->full(R"("ab")"));
  EXPECT_FALSE(any->full(R"("abc")"));
  EXPECT_TRUE(one->full("null"));
  EXPECT_FALSE(one->full("0"));
  EXPECT_TRUE(all->full(R"({"a":1,"b":"x"})"));
  EXPECT_FALSE(all->full(R"({"a":1})"));
  EXPECT_NE(
      error_of(R"({"allOf":[{"type":"string"},{"type":"integer"}]})").find("allOf with more than one schema"),
      std::string::npos);
}

TEST(JsonSchemaRegex, RefsToDefsAndDefinitions) {
  auto m = compile(R"({
    "$defs": {"Point": {"type":"object","properties":{"x":{"type":"number"},"y":{"type":"number"}},
                        "required":["x","y"]}},
    "definitions": {"Tag": {"type":"string","enum":["a","b"]}},
    "type":"object",
    "properties":{"p":{"$ref":"#/$defs/Point"},"tags":{"type":"array","items":{"$ref":"#/definitions/Tag"}}},
    "required":["p"]})");
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->full(R"({"p":{"x":1,"y":2.5},"tags":["a","b"]})"));
  EXPECT_FALSE(m->full(R"({"p":{"x":1}})"));
  EXPECT_FALSE(m->full(R"({"p":{"x":1,"y":2},"tags":["c"]})"));
  // pydantic's allOf-wrapped reference.
  auto wrapped = compile(R"({"$defs":{"E":{"enum":["on","off"]}},"type":"object",
                             "properties":{"mode":{"allOf":[{"$ref":"#/$defs/E"}],"description":"d"}},
                             "required":["mode"]})");
  ASSERT_TRUE(wrapped);
  EXPECT_TRUE(wrapped->full(R"({"mode":"off"})"));
  EXPECT_FALSE(wrapped->full(R"({"mode":"dim"})"));
}

constexpr std::string_view kTree = R"({
  "$defs": {"Node": {"type":"object","properties":{
      "value":{"type":"integer"},
      "children":{"type":"array","items":{"$ref":"#/$defs/Node"}}},
    "required":["value"]}},
  "$ref": "#/$defs/Node"})";

TEST(JsonSchemaRegex, RecursiveRefTerminatesAndAcceptsShallowTrees) {
  auto re = json_schema_to_regex(kTree);
  ASSERT_TRUE(re.ok()) << re.error().message;
  auto m = compile(kTree);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->full(R"({"value":1})"));
  EXPECT_TRUE(m->full(R"({"value":1,"children":[]})"));
  const std::string two = R"({"value":1,"children":[{"value":2},{"value":3,"children":[{"value":4}]}]})";
  EXPECT_TRUE(m->full(two));
  expect_prefixes_viable(*m, two);
  EXPECT_FALSE(m->full(R"({"value":1,"children":[{"value":"2"}]})"));
  // Past the expansion limit the recursive position admits nothing: only `[]` or no children.
  const std::string deep =
      R"({"value":1,"children":[{"value":2,"children":[{"value":3,"children":[{"value":4,"children":[{"value":5}]}]}]}]})";
  EXPECT_FALSE(m->full(deep));
  // The root itself as the recursion target.
  auto root = compile(R"({"type":"object","properties":{"next":{"$ref":"#"}}})");
  ASSERT_TRUE(root);
  EXPECT_TRUE(root->full(R"({"next":{"next":{}}})"));
}

constexpr std::string_view kForcedToolCall =
    R"({"type":"array","minItems":1,"items":{"type":"object","anyOf":[
  {"properties":{"name":{"type":"string","enum":["get_weather"]},
   "parameters":{"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string","enum":["c","f"]}},
                 "required":["city"]}},
   "required":["name","parameters"]}]}})";

TEST(JsonSchemaRegex, ForcedToolCallSchema) {
  auto m = compile(kForcedToolCall);
  ASSERT_TRUE(m);
  const std::string call = R"([{"name": "get_weather", "parameters": {"city": "Paris", "unit": "c"}}])";
  EXPECT_TRUE(m->full(call));
  EXPECT_TRUE(m->full(R"([{"name":"get_weather","parameters":{"city":"Oslo"}},)"
                      R"({"name":"get_weather","parameters":{"city":"Rome","unit":"f"}}])"));
  expect_prefixes_viable(*m, call);
  EXPECT_FALSE(m->full("[]")) << "minItems 1";
  EXPECT_FALSE(m->full(R"([{"name":"get_time","parameters":{"city":"Paris"}}])"));
  EXPECT_FALSE(m->full(R"([{"name":"get_weather","parameters":{"unit":"c"}}])"));
  EXPECT_FALSE(m->full(R"([{"name":"get_weather","parameters":{"city":"Paris","unit":"k"}}])"));
  EXPECT_FALSE(m->full(R"([{"name":"get_weather"}])"));
  EXPECT_FALSE(m->viable(R"([{"name":"get_t)"));
  EXPECT_GE(m->dfa(call), 1);
}

TEST(JsonSchemaRegex, PrefixesOfValidInstancesAreViableAndWrongOnesAreNot) {
  auto m = compile(kPerson);
  ASSERT_TRUE(m);
  expect_prefixes_viable(
      *m, "{\n  \"name\": \"J\\u00e9r\\\"\xC3\xB4me\",\n  \"age\": -12,\n  \"email\": \"j@x.io\"\n}");
  for (const char* wrong : {R"({"nam_)", R"({"name":1)", R"({"name":"a","age":1.)",
                            R"({"name":"a","age":12}})", R"({"age")", "[", R"({"name":"a" ,,)"}) {
    EXPECT_EQ(m->match(wrong, PCRE2_PARTIAL_HARD), PCRE2_ERROR_NOMATCH) << wrong;
  }
}

TEST(JsonSchemaRegex, DfaMatchingWorksWithoutRecursion) {
  auto person = compile(kPerson);
  auto tree = compile(kTree);
  auto free = compile("{}");
  ASSERT_TRUE(person && tree && free);
  EXPECT_GE(person->dfa(R"({"name":"Ann","age":31,"email":"a@b.co"})"), 1);
  EXPECT_GE(tree->dfa(R"({"value":1,"children":[{"value":2,"children":[]}]})"), 1);
  EXPECT_GE(free->dfa(R"({"a":[1,{"b":null}],"c":"d"})"), 1);
  EXPECT_EQ(person->dfa(R"({"name":"Ann"})"), PCRE2_ERROR_NOMATCH);
  auto re = json_schema_to_regex(kTree);
  ASSERT_TRUE(re.ok());
  for (const char* construct : {"(?R", "(?&", "(?P>", "(?1", "\\g", "(?<=", "(?<!", "(?="}) {
    EXPECT_EQ(re->find(construct), std::string::npos) << construct;
  }
}

TEST(JsonSchemaRegex, ErrorsNameTheProblemAndThePath) {
  EXPECT_NE(error_of("{not json").find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of(R"({"type":"object","properties":{"x":{"type":"strng"}}})").find("/properties/x/type"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"$ref":"#/$defs/Missing"})").find("does not resolve"), std::string::npos);
  EXPECT_NE(error_of(R"({"$ref":"https://example.com/s.json"})").find("unsupported $ref"), std::string::npos);
  EXPECT_NE(error_of(R"({"type":"array","minItems":3,"maxItems":2})").find("minItems"), std::string::npos);
  EXPECT_NE(error_of(R"({"type":"string","minLength":5,"maxLength":1})").find("minLength"),
            std::string::npos);
  std::string unsupported = error_of(R"({"type":"object","properties":{"x":{"not":{"type":"null"}}}})");
  EXPECT_NE(unsupported.find("unsupported keyword 'not' at /properties/x"), std::string::npos) << unsupported;
  EXPECT_NE(error_of("false").find("admits no value"), std::string::npos);
  EXPECT_FALSE(error_of(R"({"type":"array","minItems":-1})").empty());
  EXPECT_FALSE(error_of(R"({"type":"object","required":"a","properties":{}})").empty());
}

TEST(JsonSchemaRegex, NestedSchemasStayWithinPcre2Limits) {
  // Free-form values inside arrays inside objects, a union of objects and a bounded array: the
  // pattern must still compile (PCRE2 with LINK_SIZE 2 caps a compiled pattern at 64K units).
  auto m = compile(R"({"type":"object","properties":{
      "meta":{"type":"object"},
      "rows":{"type":"array","items":{"type":"array","items":{}},"maxItems":5},
      "u":{"anyOf":[{"type":"object","properties":{"k":{"const":1}}},{"type":"array"},{"type":"string"}]}},
    "required":["meta"]})");
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->full(R"({"meta":{"a":{"b":1}},"rows":[[1,{"x":2}],[]],"u":{"k":1}})"));
  EXPECT_FALSE(m->full(R"({"meta":{"a":{"b":[1]}}})")) << "free-form depth counts from the root";
  // Four free-form members, all optional (each appears twice in the pattern).
  auto many =
      compile(R"({"type":"object","properties":{"a":{},"b":{},"c":{"type":"object"},"d":{"type":"array"}}})");
  ASSERT_TRUE(many);
  EXPECT_TRUE(many->full(R"({"b":[1,{"x":null}],"d":[[1],{}]})"));
}

}  // namespace
}  // namespace sgl::server
