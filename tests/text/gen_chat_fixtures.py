#!/usr/bin/env python3
"""Renders the chat-template fixtures with Python's jinja2 exactly as transformers'
apply_chat_template does, and writes fixtures/chat/expected.json. Run with /usr/bin/python3
(Debian's python3-jinja2). The C++ tests compare byte for byte."""
import copy
import datetime
import json
import os

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
CHAT = os.path.join(HERE, "fixtures", "chat")
FIXED_NOW = datetime.datetime(2026, 7, 4, 15, 30, 0)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def make_env():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: FIXED_NOW.strftime(fmt)
    return env


def sglang_normalise(ctx):
    """What SGLang does to messages before apply_chat_template (the C++ side does the same)."""
    ctx = copy.deepcopy(ctx)
    for m in ctx.get("messages", []):
        if isinstance(m.get("content"), list):
            m["content"] = "".join(p.get("text", "") for p in m["content"] if isinstance(p, dict))
        for call in m.get("tool_calls") or []:
            fn = call.get("function")
            if isinstance(fn, dict) and isinstance(fn.get("arguments"), str):
                try:
                    fn["arguments"] = json.loads(fn["arguments"])
                except ValueError:
                    pass
    return ctx


WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
           "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City"},
                                                          "days": {"type": "integer"}}, "required": ["city"]}}}
BASH = {"type": "function", "function": {"name": "execute_bash", "description": "Run a shell command",
        "parameters": {"type": "object", "properties": {"command": {"type": "string"}}}}}


def conversations():
    u = lambda t: {"role": "user", "content": t}
    a = lambda t: {"role": "assistant", "content": t}
    s = lambda t: {"role": "system", "content": t}
    convs = [
        [u("Hello!")],
        [s("You are terse."), u("What is 2+2?")],
        [u("Hi"), a("Hello! How can I help?"), u("Tell me a joke.")],
        [s("Be kind."), u("Hi"), a("Hey."), u("Bye"), a("Goodbye!")],
        [u("Unicode: 你好, Grüße, emoji 😀, \"quotes\" and 'apostrophes' \\ backslash")],
        [u("Line1\nLine2\n\n  indented"), a("  leading and trailing  \n"), u("ok")],
        [u([{"type": "text", "text": "part one, "}, {"type": "text", "text": "part two"}])],
        [u("Think first"), {"role": "assistant", "content": "The answer is 4.", "reasoning_content": "2+2=4"}, u("And 3+3?")],
        [u("Q"), a("<think>\nreasoning here\n</think>\n\nFinal answer."), u("Another")],
        [u("Q"), a("<think>\nlast turn reasoning\n</think>\n\nDone.")],
        [u("Weather in Paris?"),
         {"role": "assistant", "content": "", "tool_calls": [{"id": "call_1", "type": "function",
          "function": {"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}}]},
         {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp\": 21}"}],
        [u("Weather in Oslo and Rome?"),
         {"role": "assistant", "content": "Checking both.", "tool_calls": [
             {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Oslo\"}"}},
             {"id": "c2", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Rome"}}}]},
         {"role": "tool", "content": "cold"}, {"role": "tool", "content": "warm"}, a("Oslo is cold, Rome is warm."),
         u("Thanks")],
        [s("sys"), u("<tool_response>\nx\n</tool_response>"), a("ok")],
        [u("a"), a("b"), u("c"), a("d"), u("e"), a("f"), u("g")],
        [s("Multi\nline\nsystem"), u("go")],
        [u("Run ls"), {"role": "assistant", "content": None, "tool_calls": [
            {"id": "x", "type": "function", "function": {"name": "execute_bash", "arguments": {"command": "ls -la"}}}]},
         {"role": "tool", "content": "file1\nfile2"}],
        # 16..: more shapes (multi-step tools, reasoning with tools, unicode, template-looking text)
        [u("Plan a trip"), {"role": "assistant", "content": "", "reasoning_content": "Need weather first.",
          "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Kyoto"}}}]},
         {"role": "tool", "content": "sunny"},
         {"role": "assistant", "content": "", "reasoning_content": "Now check files.", "tool_calls": [
             {"id": "t2", "type": "function", "function": {"name": "execute_bash", "arguments": {"command": "cat plan.txt"}}}]},
         {"role": "tool", "content": "day1: temples"},
         {"role": "assistant", "content": "Kyoto is sunny; day 1 is temples.", "reasoning_content": "Combine."}],
        [s("You can call tools."), u("Nested args"), {"role": "assistant", "content": "", "tool_calls": [
            {"id": "n", "type": "function", "function": {"name": "get_weather", "arguments": {
                "city": "Zürich", "opts": {"units": ["C", "F"], "precise": True, "ratio": 0.25, "none": None}}}}]},
         {"role": "tool", "content": "{\"temp\": -3.5, \"desc\": \"snow ❄\"}"}, u("and now?")],
        [u("")],
        [u("   "), a("\t tab \r\n crlf")],
        [u("Template-looking text: {{ messages }} {% if x %} {# c #} {%- raw -%}")],
        [u("Special tokens in text: <|im_start|>user <|im_end|> <|eot_id|> [INST] <think></think>")],
        [u("你好，请介绍一下你自己。"), a("我是一个助手。"), u("谢谢！再见。")],
        [u("Emoji ZWJ 👩‍👩‍👧‍👦 flags 🇯🇵 combining é (e\u0301) RTL שלום العربية")],
        [s("sys"), u("q1"), a("a1"), u("q2"), a("a2"), u("q3"), a("a3"), u("q4"), a("a4"), u("q5"), a("a5"), u("q6")],
        [u("Prefill me"), a("Sure, here is")],
        [u("Q1"), {"role": "assistant", "content": "A1", "reasoning_content": "r1"},
         u("Q2"), {"role": "assistant", "content": "A2", "reasoning_content": "r2"}, u("Q3")],
        [u("Q"), a("<think>unclosed reasoning and answer")],
        [u("Q"), a("prefix <think>\ninner\n</think>\n\nafter"), u("next")],
        [u("Call with string args"), {"role": "assistant", "content": None, "tool_calls": [
            {"id": "s", "type": "function", "function": {"name": "execute_bash", "arguments": "not json {"}}]},
         {"role": "tool", "content": "error"}],
        [u("two tools in parallel"), {"role": "assistant", "content": "", "tool_calls": [
            {"id": "p1", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "A"}}},
            {"id": "p2", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "B"}}},
            {"id": "p3", "type": "function", "function": {"name": "execute_bash", "arguments": {"command": "date"}}}]},
         {"role": "tool", "content": "a"}, {"role": "tool", "content": "b"}, {"role": "tool", "content": "c"}],
        [{"role": "system", "content": [{"type": "text", "text": "list system"}]},
         u([{"type": "text", "text": "list "}, {"type": "text", "text": "user"}])],
        [u("x" * 2000)],
        [u("Quotes \"double\" 'single' `back` and \\n literal")],
        [s(""), u("empty system")],
        [u("Tool result then question"), {"role": "assistant", "content": "Let me check.", "tool_calls": [
            {"id": "w", "type": "function", "function": {"name": "get_weather", "arguments": {}}}]},
         {"role": "tool", "content": ""}, a("Nothing came back."), u("Try again"),
         {"role": "assistant", "content": "", "tool_calls": [
            {"id": "w2", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Lima"}}}]},
         {"role": "tool", "content": "hot"}],
        [u("Numbers 1 2.5 -3 1e10 and JSON {\"a\": [1, {\"b\": null}]}")],
        [a("assistant first")],
        [s("only a system prompt")],
        [u("Hi"), a("Hello"), u("Hi again"), a("Hello again"), u("third"), a("third answer"), u("fourth"),
         a("fourth answer"), u("fifth"), a("fifth answer"), u("sixth"), a("sixth answer"), u("seventh"),
         a("seventh answer"), u("eighth"), a("eighth answer"), u("ninth"), a("ninth answer"), u("tenth")],
        [u("Thinking with unicode"), {"role": "assistant", "content": "答案是四。", "reasoning_content": "二加二等于四 🤔"},
         u("再来")],
    ]
    return convs


def cases():
    out = []
    templates = sorted(f[:-6] for f in os.listdir(CHAT) if f.endswith(".jinja"))
    for name in templates:
        for i, msgs in enumerate(conversations()):
            for agp in (True, False):
                ctx = {"messages": msgs, "add_generation_prompt": agp, "bos_token": "<s>", "eos_token": "</s>"}
                if i in (10, 11, 15, 16, 17, 29, 30, 36) or (i >= 16 and i % 5 == 0):
                    ctx["tools"] = [WEATHER, BASH]
                if (i in (0, 7) or i >= 16) and agp and i % 3 != 2:
                    ctx["enable_thinking"] = i % 3 == 1 if i >= 16 else i == 7
                out.append({"template": name, "context": ctx})
            if i == 0:
                out.append({"template": name, "context": {"messages": msgs, "add_generation_prompt": True,
                            "bos_token": "<s>", "eos_token": "</s>", "enable_thinking": False,
                            "tools": [WEATHER]}})
    return out


# Small templates exercising the interpreter's features one at a time.
FEATURES = [
    ("{{ 'a' ~ 1 ~ none ~ true }}", {}),
    ("{{ [1, 'x', none, true, 1.5, {'k': [2]}] }}", {}),
    ("{{ {'a': 1, 'b': 'two'} }} {{ x }}", {"x": {"z": 1, "a": [1, 2]}}),
    ("{{ 7 // 2 }} {{ 7 / 2 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }}", {}),
    ("{{ 'abc'[::-1] }} {{ [1,2,3,4,5][1:4] }} {{ [1,2,3][-1] }} {{ 'hello'[1:] }} {{ [1,2,3,4][::2] }}", {}),
    ("{% for x in items %}{{ loop.index }}/{{ loop.length }}{{ ',' if not loop.last }}{% endfor %}", {"items": ["a", "b", "c"]}),
    ("{% for x in items if x > 1 %}{{ x }}{% else %}empty{% endfor %}", {"items": [1, 2, 3]}),
    ("{% for x in [] %}{{ x }}{% else %}empty{% endfor %}", {}),
    ("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", {"d": {"b": 1, "a": 2}}),
    ("{% for x in xs %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}", {"xs": [1, 2, 3, 4, 5]}),
    ("{% set ns = namespace(n=0) %}{% for x in xs %}{% set ns.n = ns.n + x %}{% endfor %}{{ ns.n }}", {"xs": [1, 2, 3]}),
    ("{% set y = 1 %}{% for x in xs %}{% set y = x %}{% endfor %}{{ y }}", {"xs": [5, 6]}),
    ("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Bob') }} {{ greet('Al', punct='?') }}", {}),
    ("{% set block %}inner {{ 1 + 1 }}{% endset %}[{{ block }}]", {}),
    ("{{ x | tojson }} {{ x | tojson(indent=2) }}", {"x": {"a": [1, 2.5, "ü\n\"q\""], "b": None, "c": True, "d": {}}}),
    ("{{ '  pad  ' | trim }}|{{ 'Hello World' | lower }}|{{ 'hi' | upper }}|{{ 'hello world' | title }}|{{ 'hELLO' | capitalize }}", {}),
    ("{{ xs | length }} {{ 'añb' | length }} {{ xs | first }} {{ xs | last }} {{ xs | join('-') }} {{ xs | reverse | list }}", {"xs": [3, 1, 2]}),
    ("{{ xs | sort }} {{ xs | sort(reverse=true) }} {{ xs | unique | list }} {{ xs | sum }} {{ xs | min }} {{ xs | max }}", {"xs": [3, 1, 2, 3]}),
    ("{{ ms | selectattr('role', 'equalto', 'user') | map(attribute='content') | join(',') }}", {"ms": [{"role": "user", "content": "a"}, {"role": "bot", "content": "b"}, {"role": "user", "content": "c"}]}),
    ("{{ ms | rejectattr('hidden') | map(attribute='n') | list }}", {"ms": [{"n": 1, "hidden": True}, {"n": 2}]}),
    ("{{ undefined_var | default('dflt') }} {{ '' | default('x', true) }} {{ none | default('y') }}", {}),
    ("{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a-b-c'.rsplit('-', 1) }} {{ 'xxhixx'.strip('x') }}", {}),
    ("{{ 'Hello'.startswith('He') }} {{ 'Hello'.endswith(('lo', 'x')) }} {{ 'aXbX'.replace('X', '-') }} {{ 'abcabc'.find('c') }} {{ 'abcabc'.count('b') }}", {}),
    ("{{ d.get('a') }} {{ d.get('zz', 'none') }} {{ d.keys() | list }} {{ d.values() | list }}", {"d": {"a": 1, "b": 2}}),
    ("{{ x is defined }} {{ y is defined }} {{ none is none }} {{ 'a' is string }} {{ 1 is number }} {{ d is mapping }} {{ xs is iterable }} {{ xs is sequence }}", {"x": 1, "d": {}, "xs": []}),
    ("{{ true is true }} {{ 0 is false }} {{ 3 is odd }} {{ 4 is even }} {{ 6 is divisibleby 3 }} {{ 2 is in [1, 2] }} {{ 'a' is equalto 'a' }}", {}),
    ("{{ 'b' in 'abc' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 3 not in [1] }} {{ 1 < 2 < 3 }}", {}),
    ("{{ 'yes' if x else 'no' }} {{ 'a' if false }}|{{ x and y }} {{ x or y }} {{ not x }}", {"x": 1, "y": 0}),
    ("{{ 'a' * 3 }} {{ [1] + [2] }} {{ 3.0 }} {{ 1e3 }} {{ 0.1 + 0.2 }} {{ 10 / 4 }} {{ 2 * 0.5 }}", {}),
    ("{{ ' line1\nline2\n\nline3' | indent(2) }}|{{ 'a\nb' | indent(4, true) }}", {}),
    ("{{ range(3) | list }} {{ range(1, 7, 2) | list }} {{ 'x' | replace('x', 'y') }} {{ 3.7 | int }} {{ '42' | int + 1 }} {{ 2 | float }} {{ -3 | abs }} {{ 2.567 | round(2) }}", {}),
    ("{{ strftime_now('%Y-%m-%d %H:%M') }} {{ strftime_now('%d %b %Y') }}", {}),
    ("{%- if true -%}\n  spaced  \n{%- endif -%}\n|{# comment #}|{%+ if true %}keep{% endif %}", {}),
    ("A\n  {% if true %}\n  B\n  {% endif %}\nC", {}),
    ("{% for i in range(2) %}\n  row {{ i }}\n{% endfor %}\nend", {}),
    ("{{ raise_exception('boom') }}", {}),
    ("{{ messages | map(attribute='role') | list }} {{ messages[0].content[:3] }}", {"messages": [{"role": "user", "content": "hello"}]}),
    ("{{ d | dictsort }} {{ d | items | list }}", {"d": {"b": 2, "a": 1}}),
    ("{{ xs[5] }}|{{ d.missing }}|{{ d['missing'] }}|{{ xs | selectattr('a') | list }}", {"xs": [1], "d": {}}),
    ("{% if x is not none and x is not string %}obj{% endif %} {{ x | tojson(sort_keys=true) }}", {"x": {"b": 1, "a": 2}}),
    # Unicode is indexed by code point, as Python strings are.
    ("{{ s[1] }}|{{ s[-1] }}|{{ s[1:3] }}|{{ s[::-1] }}|{{ s | length }}|{{ s.upper() }}|{{ s | title }}", {"s": "añ😀bç"}),
    ("{{ s.find('b') }} {{ s.count('ñ') }} {{ s | truncate(3) if false else s.center(9, '*') }}", {"s": "añb"}),
    # Undefined semantics of jinja2's default Undefined.
    ("[{{ nope }}]{{ nope | length }}{% for x in nope %}x{% endfor %}{{ nope is defined }}{{ (nope or 'd') }}", {}),
    ("{{ nope.attr }}", {}),
    ("{{ nope['k'] }}", {}),
    ("{{ nope + 1 }}", {}),
    ("{{ d.missing.deeper }}", {"d": {}}),
    ("{{ none.attr is defined }} {{ d.k is none }} {{ d.k is defined }}", {"d": {"k": None}}),
    # call / caller, filter blocks, loop.cycle, batch.
    ("{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}bold {{ 1 + 1 }}{% endcall %}", {}),
    ("{% macro each(xs) %}{% for x in xs %}{{ caller(x) }};{% endfor %}{% endmacro %}{% call(item) each([1, 2]) %}[{{ item }}]{% endcall %}", {}),
    ("{% filter upper %}shout {{ 'it' }}{% endfilter %}|{% filter replace('a', 'o') %}banana{% endfilter %}", {}),
    ("{% for x in xs %}{{ loop.cycle('odd', 'even') }}{{ loop.revindex }}{{ loop.previtem }}{{ loop.nextitem }},{% endfor %}", {"xs": [1, 2, 3]}),
    ("{{ xs | batch(2) | list }} {{ xs | slice(2) | list }}", {"xs": [1, 2, 3, 4, 5]}),
    # Numbers print as Python prints them.
    ("{{ 1.0 }} {{ 1e20 }} {{ 1e-7 }} {{ 2 ** 0.5 }} {{ 10 ** 18 }} {{ 7 // -2 }} {{ -7 // 2 }} {{ 7.5 // 2 }} {{ 5 % -3 }} {{ 1/3 }} {{ 100.0 / 3 }}", {}),
    ("{{ 3 | round }} {{ 2.5 | round }} {{ 2.675 | round(2) }} {{ 2.5 | round(0, 'floor') }} {{ -2.5 | int }} {{ 'x' | int }} {{ '3.5' | float }} {{ true + 1 }}", {}),
    ("{{ x }} {{ x | tojson }} {{ y }} {{ y | tojson }} {{ z | tojson }}", {"x": 1.5e300, "y": 1234567890123456789, "z": [0.1, -0.0, 1e-10]}),
    # String escapes and string methods with arguments.
    ("{{ 'tab\\there' }}|{{ \"dq 'sq'\" }}|{{ 'uni \\u00e9' }}|{{ 'a\\nb'.splitlines() }}|{{ ' x '.lstrip() }}|{{ 'x--'.rstrip('-') }}", {}),
    ("{{ '{} and {}'.format('a', 1) }} {{ '%s=%d' % ('k', 3) }} {{ 'a b c'.split(' ', 1) }} {{ 'abc'.replace('b', 'B', 1) }}", {}),
    ("{{ 'x' ~ [1, 'a'] ~ {'k': none} }} {{ [none, true, 'q\\'s'] | string }} {{ (1, 2) }}", {}),
    ("{{ d | tojson(indent=4) }}|{{ [] | tojson(indent=2) }}|{{ {} | tojson(indent=2) }}|{{ 'é\\u2028' | tojson }}", {"d": {"a": [1, {"b": []}], "c": "x"}}),
    ("{{ xs | map('upper') | list }} {{ xs | select('equalto', 'b') | list }} {{ xs | reject('in', ['a']) | list }} {{ xs | join }}", {"xs": ["a", "b", "c"]}),
    ("{{ ms | sort(attribute='n') | map(attribute='n') | list }} {{ ms | map(attribute='m', default='-') | list }} {{ ms | groupby('n') | length }}", {"ms": [{"n": 2}, {"n": 1, "m": "x"}]}),
    ("{{ 'abc' is lower }} {{ 'ABC' is upper }} {{ f is callable }} {{ 1 is integer }} {{ 1.0 is float }} {{ x is boolean }} {{ 2 is ge 1 }} {{ 'a' is sameas 'a' }}", {"x": False}),
    ("{% set a, b = [1, 2] %}{{ a }}{{ b }}{% set c = d.update({'k': 1}) %}{{ d }}", {"d": {}}),
    ("{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %} {% for k in {'x': 1, 'y': 2} %}{{ k }}{% endfor %} {% for ch in 'hé' %}[{{ ch }}]{% endfor %}", {}),
    ("{%- for m in messages -%}\n  {%- if loop.first -%}FIRST{%- endif %}\n  {{ m }}\n{%- endfor %}\n", {"messages": ["a", "b"]}),
    ("  {%- raw %}{{ not rendered }}{% endraw %} {{ '{{' }}", {}),
    ("{{ xs[1:] | length }} {{ xs[:-1] }} {{ xs[::-2] }} {{ xs[10:] }} {{ 'abc'[5:] }}|{{ xs[-10:2] }}", {"xs": [1, 2, 3, 4]}),
    ("{{ {'a': 1}.items() | list }} {{ d.get('a', 0) + 1 }} {{ d['a'] if 'a' in d else 'no' }} {{ d | length }} {{ d.pop('a') if false else 'keep' }}", {"d": {"a": 1}}),
    ("{{ 'abc' < 'abd' }} {{ [1, 2] == [1, 2] }} {{ {'a': 1} == {'a': 1} }} {{ 1 == 1.0 }} {{ none == none }} {{ 'a' != 'b' }} {{ [1, 2] < [1, 3] }}", {}),
    ("{{ range(100001) | length }}", {}),
    ("{% macro m(a, b=2) %}{{ a }}-{{ b }}-{{ varargs }}-{{ kwargs }}{% endmacro %}{{ m(1) }} {{ m(1, 3) }}", {}),
    ("{{ x | e }} {{ x | escape }} {{ x | safe }} {{ x | forceescape }}", {"x": "<a href='x'>&\""}),
    ("{{ s.title() }}|{{ s | title }}|{{ s.capitalize() }}|{{ s | capitalize }}|{{ 'ÉCOLE straße'.lower() }}|{{ 'ÀÉÎ'.lower() }}", {"s": "they're bill's (friends)-x ñu"}),
    ("{% set ns = namespace(items=[], found=false) %}{% for m in ms %}{% set ns.items = ns.items + [m.n] %}{% if m.n == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.items }} {{ ns.found }}", {"ms": [{"n": 1}, {"n": 2}]}),
    ("{% for row in rows %}{% for c in row %}{{ loop.index }}{{ c }}{% endfor %}|{{ loop.index }}{% endfor %}", {"rows": [["a", "b"], ["c"]]}),
    ("{% if a %}A{% elif b %}B{% elif c %}C{% else %}D{% endif %}{% if not a and not b %}{% if c %}c{% endif %}{% endif %}", {"c": 1}),
    ("{{ x.y.z }}|{{ x['y']['z'] }}|{{ x.get('y').get('z') }}|{{ x.y.missing is defined }}", {"x": {"y": {"z": "deep"}}}),
    ("{{ 'a' if x is defined and x else 'b' }} {{ x | default(5) }} {{ y | default(5) }} {{ z | default(5, boolean=true) }}", {"x": 0, "z": ""}),
    ("{%- set m = messages[-1] -%}{{ m.role }}:{{ m['content'] | trim }}{% if m.tool_calls %}!{% endif %}", {"messages": [{"role": "user", "content": "  hi  "}]}),
    ("{{ x | tojson(separators=(',', ':')) }}|{{ x | tojson(ensure_ascii=true) }}|{{ x | tojson(true, 1, sort_keys=true) }}", {"x": {"k": "é😀\u0007", "b": [1, 2]}}),
    ("{{ s | wordcount }} {{ s | truncate(9) }} {{ s | replace(' ', '_') | upper }} {{ s | center(20) }}|", {"s": "the quick brown fox"}),
]


def main():
    env = make_env()
    results = []
    for c in cases():
        src = open(os.path.join(CHAT, c["template"] + ".jinja"), encoding="utf-8").read()
        ctx = sglang_normalise(c["context"])
        try:
            expected = env.from_string(src).render(**ctx)
            results.append({"template": c["template"], "context": c["context"], "expected": expected})
        except Exception as e:  # noqa: BLE001 - the fixture records the error
            results.append({"template": c["template"], "context": c["context"], "error": str(e)})
    features = []
    for src, ctx in FEATURES:
        try:
            features.append({"source": src, "context": ctx, "expected": env.from_string(src).render(**ctx)})
        except Exception as e:  # noqa: BLE001
            features.append({"source": src, "context": ctx, "error": str(e)})
    with open(os.path.join(CHAT, "expected.json"), "w", encoding="utf-8") as f:
        json.dump({"now": FIXED_NOW.isoformat(), "cases": results, "features": features}, f, ensure_ascii=False, indent=1)
    ok = sum(1 for r in results if "expected" in r)
    print(f"{len(results)} template cases ({ok} render, {len(results) - ok} raise), {len(features)} feature cases")


if __name__ == "__main__":
    main()
