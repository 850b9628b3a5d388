// Unit tests of the Jinja interpreter itself: semantics that parity fixtures do not pin down
// (error values and their line numbers, resource limits, the injectable clock, SGLang's
// message normalisation) and a fuzz pass proving malformed templates never crash.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <string>

#include "server/text/chat_template.h"
#include "server/text/jinja/interpreter.h"
#include "server/text/jinja/parser.h"

namespace sgl::text::jinja {
namespace {

// Renders `src` with a JSON context; "ERR: <message>" on failure.
std::string run(std::string_view src, std::string_view ctx = "{}") {
  auto body = parse_template(src);
  if (!body.ok()) return "ERR: " + body.error().message;
  auto c = from_json(ctx);
  if (!c.ok()) return "ERR: " + c.error().message;
  RenderOptions opt;
  opt.strftime_now = [](const std::string& fmt) { return "<" + fmt + ">"; };
  auto out = render(*body, *c, opt);
  return out.ok() ? *out : "ERR: " + out.error().message;
}

bool fails(std::string_view src, std::string_view ctx = "{}") { return run(src, ctx).starts_with("ERR: "); }

TEST(JinjaInterpreter, TrimAndLstripBlocksAsTransformers) {
  EXPECT_EQ(run("  {% if true %}\n  x\n  {% endif %}\ny"), "  x\ny");
  EXPECT_EQ(run("a {%- if true -%} b {%- endif -%} c"), "abc");
  EXPECT_EQ(run("{%+ if true %}x{% endif %}"), "x");
  EXPECT_EQ(run("{# note #}\nz"), "z");
  EXPECT_EQ(run("{{ 'x' }}\ny"), "x\ny");  // trim_blocks does not apply to {{ }}
}

TEST(JinjaInterpreter, LoopVariablesAndControls) {
  EXPECT_EQ(run("{% for x in xs %}{{ loop.index0 }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }} {% "
                "endfor %}",
                R"({"xs":[7,8]})"),
            "01TrueFalse 10FalseTrue ");
  EXPECT_EQ(run("{% for x in xs %}{% if loop.previtem is defined %}{{ loop.previtem }}<{% endif %}{{ x }} {% "
                "endfor %}",
                R"({"xs":[1,2,3]})"),
            "1 1<2 2<3 ");
  EXPECT_EQ(run("{% for x in range(10) %}{% if x > 2 %}{% break %}{% endif %}{{ x }}{% endfor %}"), "012");
  EXPECT_EQ(run("{% for k, v in {'a': 1}.items() %}{{ k }}{{ v }}{% else %}none{% endfor %}"), "a1");
}

TEST(JinjaInterpreter, ScopingFollowsJinja) {
  // A plain `set` in a loop does not leak; a namespace attribute does.
  EXPECT_EQ(run("{% set x = 1 %}{% for i in [1, 2] %}{% set x = i %}{% endfor %}{{ x }}"), "1");
  EXPECT_EQ(run("{% set ns = namespace(x=1) %}{% for i in [1, 2] %}{% set ns.x = i %}{% endfor %}{{ ns.x }}"),
            "2");
  EXPECT_TRUE(fails("{% set s = 'str' %}{% set s.attr = 1 %}"));
}

TEST(JinjaInterpreter, MacrosCallBlocksAndFilterBlocks) {
  EXPECT_EQ(run("{% macro f(a, b='B') %}{{ a }}{{ b }}{{ varargs | length }}{% endmacro %}{{ f(1) }}{{ f(1, "
                "2, 3) }}"),
            "1B0121");
  EXPECT_EQ(run("{% macro w() %}[{{ caller() }}]{% endmacro %}{% call w() %}in{% endcall %}"), "[in]");
  EXPECT_EQ(run("{% filter upper | replace('A', '4') %}abc{% endfilter %}"), "4BC");
  EXPECT_EQ(run("{% raw %}{{ x }}{% if %}{% endraw %}"), "{{ x }}{% if %}");
}

TEST(JinjaInterpreter, UndefinedBehavesLikeJinjaDefault) {
  EXPECT_EQ(run("[{{ nope }}][{{ nope | default('d') }}][{{ nope is defined }}]"), "[][d][False]");
  EXPECT_EQ(run("{% for x in nope %}x{% else %}empty{% endfor %}"), "empty");
  EXPECT_EQ(run("{{ d.missing is defined }}", R"({"d":{}})"), "False");
  EXPECT_TRUE(fails("{{ nope.attr }}"));
  EXPECT_TRUE(fails("{{ nope[0] }}"));
  EXPECT_TRUE(fails("{{ nope + 1 }}"));
  EXPECT_TRUE(fails("{{ nope() }}"));
}

TEST(JinjaInterpreter, PythonStringsAreCodePoints) {
  EXPECT_EQ(run("{{ s[0] }}|{{ s[-1] }}|{{ s[1:] }}|{{ s | length }}|{{ s[::-1] }}", R"({"s":"é😀x"})"),
            "é|x|😀x|3|x😀é");
  EXPECT_EQ(run("{{ 'ÄÖÜ'.lower() }}{{ 'éa'.upper() }}{{ s.find('x') }}", R"({"s":"é😀x"})"), "äöüÉA2");
  EXPECT_EQ(run("{{ '\\u00e9\\x41\\U0001F600' }}"), "éA😀");
}

TEST(JinjaInterpreter, TojsonMatchesPythonJsonDumps) {
  EXPECT_EQ(run("{{ x | tojson }}", R"({"x":{"b":[1,2.5,null,true],"a":"é\n\"q\""}})"),
            R"({"b": [1, 2.5, null, true], "a": "é\n\"q\""})");
  EXPECT_EQ(run("{{ x | tojson(indent=2) }}", R"({"x":{"a":[1]}})"), "{\n  \"a\": [\n    1\n  ]\n}");
  EXPECT_EQ(run("{{ x | tojson(ensure_ascii=true) }}", R"({"x":"é😀"})"), R"("\u00e9\ud83d\ude00")");
  EXPECT_EQ(run("{{ x | tojson(separators=(',', ':')) }}", R"({"x":{"a":[1,2]}})"), R"({"a":[1,2]})");
}

TEST(JinjaInterpreter, ErrorsAreValuesWithLineNumbers) {
  EXPECT_NE(run("a\nb\n{{ 1 + }}").find("line 3"), std::string::npos) << run("a\nb\n{{ 1 + }}");
  EXPECT_NE(run("x\n{% if true %}\n{{ raise_exception('bad role') }}{% endif %}").find("bad role"),
            std::string::npos);
  EXPECT_NE(run("\n\n\n{{ 'a' | nosuch }}").find("line 4"), std::string::npos);
  EXPECT_NE(run("{% for %}").find("line 1"), std::string::npos);
  EXPECT_TRUE(fails("{% endif %}"));
  EXPECT_TRUE(fails("{% if x %}{% endfor %}"));
  EXPECT_TRUE(fails("{% macro m( %}{% endmacro %}"));
  EXPECT_TRUE(fails("{% raw %}never closed"));
  EXPECT_TRUE(fails("{{ '\\u12' }}"));
}

TEST(JinjaInterpreter, ImmutableSandboxRefusesMutation) {
  EXPECT_TRUE(fails("{% set x = [] %}{{ x.append(1) }}"));
  EXPECT_TRUE(fails("{{ d.update({'a': 1}) }}", R"({"d":{}})"));
  EXPECT_TRUE(fails("{{ d.pop('a') }}", R"({"d":{"a":1}})"));
}

TEST(JinjaInterpreter, ResourceLimitsAreErrorsNotCrashes) {
  EXPECT_TRUE(fails("{{ range(200000) | length }}"));
  EXPECT_TRUE(fails("{{ 'x' * 100000000000 }}"));
  EXPECT_TRUE(fails("{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}{{ r(0) }}"));
  EXPECT_TRUE(fails("{{ 9223372036854775807 + 1 }}"));
  EXPECT_TRUE(fails("{{ 2 ** 70 }}"));
  EXPECT_TRUE(fails("{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}"));
  EXPECT_TRUE(fails("{{ " + std::string(5000, '[') + std::string(5000, ']') + " }}"));
  EXPECT_EQ(run("{{ -9223372036854775807 // -1 }} {{ 7 // -2 }} {{ -7 % 3 }}"), "9223372036854775807 -4 2");
  // Syntax trees deep enough to overflow the stack when rendered or freed are refused.
  auto repeat = [](const std::string& s, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += s;
    return out;
  };
  EXPECT_TRUE(fails("{{ " + repeat("not ", 100000) + "1 }}"));
  EXPECT_TRUE(fails(repeat("{% if true %}", 100000) + "x" + repeat("{% endif %}", 100000)));
  EXPECT_TRUE(fails("{{ x" + repeat(".a", 100000) + " }}", R"({"x":{}})"));
  EXPECT_TRUE(fails("{{ 1" + repeat(" + 1", 100000) + " }}"));
  EXPECT_TRUE(fails("{{ 1" + repeat(" if 1 else 1", 100000) + " }}"));
  EXPECT_TRUE(fails("{{ x" + repeat("|e", 100000) + " }}"));
  EXPECT_TRUE(fails("{{ " + repeat("-", 100000) + "1 }}"));
  EXPECT_EQ(run("{{ 1" + repeat(" + 1", 300) + " }}"), "301");  // long but sane expressions still work
}

// Found by tests/fuzz/jinja_fuzz.cpp: range() alone bounded nothing (nested loops of range(100000)
// ran for hours), nor did doubling a string in a loop. RenderOptions bounds loop iterations plus
// macro calls and the bytes written; `~` and `+` results are capped like `*`.
TEST(JinjaInterpreter, WorkBoundsStopRunawayTemplates) {
  auto run_with = [](std::string_view src, uint64_t max_steps, uint64_t max_output) {
    auto body = parse_template(src);
    EXPECT_TRUE(body.ok());
    RenderOptions opt;
    opt.max_steps = max_steps;
    opt.max_output_bytes = max_output;
    return render(*body, Value::object(), opt);
  };
  auto nested = run_with("{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
                         100000, 1 << 20);
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.error().message.find("loop iterations"), std::string::npos) << nested.error().message;
  EXPECT_FALSE(run_with("{% macro m(n) %}{{ m(n) ~ m(n) }}{% endmacro %}{{ m(0) }}", 1000, 1 << 20).ok());
  EXPECT_FALSE(run_with("{% for i in range(1000) %}{{ 'x' * 1000 }}{% endfor %}", 100000, 100000).ok());
  EXPECT_FALSE(  // a captured block counts too
      run_with("{% set s %}{% for i in range(1000) %}{{ 'x' * 1000 }}{% endfor %}{% endset %}", 100000,
               100000)
          .ok());
  auto fits = run_with("{% for i in range(100) %}{{ i }}{% endfor %}", 100, 190);
  ASSERT_TRUE(fits.ok()) << fits.error().message;
  EXPECT_EQ(fits->size(), 190u);
  // Doubling a string: refused at 64 MiB by the default options, not after 2^64 bytes.
  EXPECT_TRUE(
      fails("{% set ns = namespace(s='ab') %}{% for i in range(100) %}{% set ns.s = ns.s ~ ns.s %}"
            "{% endfor %}{{ ns.s | length }}"));
  EXPECT_TRUE(
      fails("{% set ns = namespace(s='ab') %}{% for i in range(100) %}{% set ns.s = ns.s + ns.s %}"
            "{% endfor %}"));
  EXPECT_TRUE(
      fails("{% set ns = namespace(l=[1]) %}{% for i in range(100) %}{% set ns.l = ns.l + ns.l %}"
            "{% endfor %}"));
}

TEST(JinjaInterpreter, StrftimeNowUsesInjectedClockAndIsDefined) {
  EXPECT_EQ(run("{{ strftime_now('%d %b %Y') }}"), "<%d %b %Y>");
  EXPECT_EQ(run("{{ strftime_now is defined }}"), "True");
  auto body = parse_template("{{ strftime_now('%Y') | length }}");
  ASSERT_TRUE(body.ok());
  auto out = render(*body, Value::object());  // the real clock
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "4");
}

TEST(ChatTemplateApi, NormalisesMessagesAsSglang) {
  auto t = ChatTemplate::create(
      "{% for m in messages %}{{ m.content }}|{% for c in m.tool_calls or [] %}{{ c.function.arguments.city "
      "}}"
      "{% endfor %}{% endfor %}{{ enable_thinking }}");
  ASSERT_TRUE(t.ok());
  auto out = (*t)->render(
      R"({"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},
      {"role":"assistant","content":"","tool_calls":[{"function":{"name":"w","arguments":"{\"city\": \"Oslo\"}"}}]}],
      "enable_thinking":false})");
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out, "ab||OsloFalse");
  auto bad = (*t)->render("{\"messages\": [");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

// Random edits of a real template and random token soup: every outcome is a value, never a
// crash or a hang (run under ASan in CI's sanitizer job to catch memory errors too).
TEST(JinjaInterpreter, FuzzedTemplatesNeverCrash) {
  std::ifstream f(std::string(SGL_SOURCE_DIR) + "/tests/text/fixtures/chat/qwen3.jinja");
  const std::string base(std::istreambuf_iterator<char>(f), {});
  ASSERT_FALSE(base.empty());
  const std::string ctx =
      R"({"messages":[{"role":"system","content":"s"},{"role":"user","content":"hi"},)"
      R"({"role":"assistant","content":"<think>r</think>ok","tool_calls":[{"function":{"name":"f","arguments":{"a":1}}}]},)"
      R"({"role":"tool","content":"t"}],"tools":[{"type":"function","function":{"name":"f"}}],"add_generation_prompt":true})";
  const char* pieces[] = {"{{",   "}}",   "{%", "%}",   "{#", "#}",  "-",    "(",      ")",      "[",
                          "]",    "'",    "\"", "|",    ".",  "if ", "for ", "endif",  "endfor", " in ",
                          "x",    "loop", "ns", "set ", "=",  ",",   ":",    "macro ", "call ",  "raw",
                          "not ", "is ",  "~",  "*",    "**", "//",  "%",    "\\",     "\n"};
  std::mt19937 rng(1234);
  int parsed = 0, rendered = 0;
  for (int iter = 0; iter < 1500; ++iter) {
    std::string src = base;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % (src.size() + 1);
      switch (rng() % 3) {
        case 0:
          src.insert(pos, pieces[rng() % std::size(pieces)]);
          break;
        case 1:
          src.erase(pos, rng() % 8);
          break;
        default:
          if (pos < src.size()) src[pos] = static_cast<char>(rng() % 128);
      }
    }
    if (iter % 5 == 0) {  // token soup
      src.clear();
      for (int k = 0; k < 40; ++k) src += pieces[rng() % std::size(pieces)];
    }
    auto t = ChatTemplate::create(src);
    if (!t.ok()) {
      EXPECT_FALSE(t.error().message.empty());
      continue;
    }
    ++parsed;
    auto out = (*t)->render(ctx);
    if (out.ok()) ++rendered;
  }
  EXPECT_GT(parsed, 100);  // the fuzzer reaches the renderer, not just the parser
  EXPECT_GT(rendered, 50);
}

}  // namespace
}  // namespace sgl::text::jinja
