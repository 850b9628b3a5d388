#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/<target>/ from the project's own test inputs (request
bodies of the unit and integration tests, schemas and grammars of tests/grammar, chat templates of
tests/text/fixtures, model presets of conf/models, small config.json files and the safetensors header
of ../shared/models when present) plus a few hand-written cases per target. Deterministic: rerun
after adding test inputs, then commit the result. Usage: python3 tests/fuzz/make_corpus.py
"""
import hashlib
import json
import os
import re
import shutil
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus")
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
MAX_SEED = 16 << 10  # bytes; bigger inputs are cut by the fuzzer's -max_len anyway
MAX_PER_TARGET = 200

seeds = {}


def add(target, data, prefix=b""):
    if isinstance(data, str):
        data = data.encode()
    data = prefix + data
    if len(data) > MAX_SEED:
        return
    bucket = seeds.setdefault(target, {})
    bucket.setdefault(hashlib.sha1(data).hexdigest()[:16], data)


def read(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def files(folder, exts):
    for dirpath, _, names in sorted(os.walk(os.path.join(ROOT, folder))):
        for n in sorted(names):
            if n.endswith(exts):
                yield os.path.join(dirpath, n)


# --- request bodies and JSON documents found in the tests ---
raw_strings = []
for path in files("tests", (".cpp",)):
    if "/fuzz/" in path:
        continue
    text = read(path)
    raw_strings += re.findall(r'R"\((.*?)\)"', text, re.S)
    raw_strings += re.findall(r'R"json\((.*?)\)json"', text, re.S)
for path in files("tests/integration", (".sh",)):
    raw_strings += re.findall(r"-d '([^']*)'", read(path))

docs = []
for s in raw_strings:
    try:
        docs.append((s, json.loads(s)))
    except ValueError:
        if "::=" in s:
            add("grammar", s, bytes([2]) + bytes(8))  # EBNF
        elif "<tool_call>" in s or "<function=" in s:
            add("tool_call_parser", s, b"\x00\x00")
            add("tool_call_parser", s, b"\x01\x03\x01\x07\x40")
            add("chat_output", s, b"\x05\x00")

SCHEMA_KEYS = {"type", "properties", "items", "enum", "const", "anyOf", "oneOf", "allOf", "$ref", "$defs",
               "pattern", "format", "minLength", "maxLength", "required", "additionalProperties"}
for text, doc in docs:
    if not isinstance(doc, dict):
        continue
    if "messages" in doc:
        add("chat_request", text)
    elif "prompt" in doc:
        add("completion_request", text)
    elif "text" in doc or "input_ids" in doc:
        add("generate_request", text)
    if isinstance(doc.get("sampling_params"), dict):
        add("sampling_params", json.dumps(doc["sampling_params"]), b"\x00\x20")
        sp = doc["sampling_params"]
        for key, kind in (("json_schema", 0), ("regex", 1), ("ebnf", 2), ("structural_tag", 3)):
            if isinstance(sp.get(key), str):
                add("grammar", sp[key], bytes([kind]) + bytes(8))
    rf = doc.get("response_format")
    if isinstance(rf, dict) and isinstance(rf.get("json_schema"), dict) and "schema" in rf["json_schema"]:
        add("grammar", json.dumps(rf["json_schema"]["schema"]), bytes([0]) + bytes(8))
    if "structures" in doc and "triggers" in doc:
        add("grammar", text, bytes([3]) + bytes(8))
    elif SCHEMA_KEYS & set(doc) and "messages" not in doc and "text" not in doc:
        add("grammar", text, bytes([0]) + bytes(8))
    if "architectures" in doc:
        add("model_config", text)

# --- hand-written cases the tests do not have in one place ---
for body in [
    '{"text":"hi","sampling_params":{"max_new_tokens":9223372036854775807}}',
    '{"input_ids":[[1,2],[3]],"sampling_params":[{"n":1},{"n":1}],"rid":["a","b"]}',
    '{"text":["a","b"],"sampling_params":{"n":2,"stop":["x"],"logit_bias":{"5":1.5}},"return_logprob":[true,false]}',
    '{"text":"a","lora_path":"x","stream":true,"logprob_start_len":0,"token_ids_logprob":[1,2]}',
]:
    add("generate_request", body)
for body in [
    '{"model":"m","prompt":"hi","max_tokens":1,"echo":true,"logprobs":2,"stop":"\\n","n":2}',
    '{"model":"m","prompt":[[1,2],[3]],"stream":true,"stream_options":{"include_usage":true},"seed":7}',
]:
    add("completion_request", body)
tool = {"type": "function", "function": {"name": "get_weather", "strict": True, "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
    "required": ["city"]}}}
for body in [
    {"model": "m", "messages": [{"role": "user", "content": "hi"}], "tools": [tool], "tool_choice": "auto"},
    {"model": "m", "messages": [{"role": "user", "content": "hi"}], "tools": [tool],
     "tool_choice": {"type": "function", "function": {"name": "get_weather"}}, "parallel_tool_calls": False},
    {"model": "m", "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": [
        {"type": "text", "text": "a"}]}, {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"P\"}"}}]},
        {"role": "tool", "content": "21C", "tool_call_id": "c"}, {"role": "assistant", "content": "It is"}],
     "continue_final_message": True, "chat_template_kwargs": {"enable_thinking": True}, "top_logprobs": 3,
     "logprobs": True},
    {"model": "m", "messages": [{"role": "user", "content": "x"}], "response_format": {
        "type": "json_schema", "json_schema": {"name": "n", "schema": tool["function"]["parameters"]}}},
    {"model": "m", "messages": [{"role": "user", "content": "x"}], "response_format": {
        "type": "structural_tag", "structures": [{"begin": "<f>", "schema": {"type": "object"}, "end": "</f>"}],
        "triggers": ["<f>"]}},
]:
    add("chat_request", json.dumps(body))

for sp in ['{"temperature":0.5,"top_p":0.9,"top_k":5,"min_p":0.1,"n":2,"stop":["a"],"stop_token_ids":[1]}',
           '{"max_new_tokens":9223372036854775807}', '{"max_new_tokens":4095,"min_new_tokens":2}',
           '{"max_tokens":100,"frequency_penalty":2,"presence_penalty":-2,"logit_bias":{"1":-100}}',
           '{"json_schema":"{}","ignore_eos":true,"stream_interval":1,"sampling_seed":3}']:
    add("sampling_params", sp, b"\x0f\xff")
    add("sampling_params", sp, b"\x00\x01")

CRLF = "\r\n"
http = [
    "GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
    'POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{"text":"hi"}',
    "POST /generate HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"tex\r\n8;ext=1\r\nt\":\"hi\"}\r\n0\r\nTrailer: x\r\n\r\n",
    "GET /health HTTP/1.1\r\n\r\nGET /v1/models/qwen%2F3?x=1 HTTP/1.1\r\n\r\nPOST /health HTTP/1.1\r\nConnection: close\r\n\r\n",
    "GET /x?y HTTP/1.0\r\n\r\n",
    "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n{}",
    "POST /generate HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}",
    "GET /health HTTP/1.1\r\n" + "X-Long: " + "a" * 300 + "\r\n\r\n",
    "BREW /pot HTTP/1.1\r\n\r\n",
    "GET /health HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    "GET /health HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
    "POST /generate HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n",
]
for i, req in enumerate(http):
    for sel in (0, 1, 2, 3):
        add("http_request", req, bytes([sel, i, 7 * i]))

for text in ["Hello, world!", "café é ﬁ Å Å ﬀ", "def main():\n    return 42\n\n\n",
             "<|im_start|>user\nhi<|im_end|>\n<think>\n\n</think>", "日本語のテキスト 🤖👩‍💻", "\u1100\u1161\u11a8 한국어",
             "   leading and trailing   \t\n", "it's they're we'll I'd", "1234567890 3.14159 -42", "\x00\x01\x7f",
             "<tool_call>{}</tool_call>", "K Ω ; `"]:
    add("tokenizer", text, b"\x00")
    add("tokenizer", text, b"\x01")
for ids in [[(0 << 22) | b for b in "héllo 世界".encode()], [(1 << 22) | k for k in range(30)],
            [(2 << 22) | k for k in range(8)], [(3 << 22) | (k * 7919) for k in range(60)]]:
    data = b"".join(struct.pack(">I", v)[1:] for v in ids)
    add("detokenizer", data, b"\x00")
    add("detokenizer", data, b"\x01")

for path in files("tests/text/fixtures/chat", (".jinja",)):
    add("jinja", read(path), b"\x00")
for tmpl in ["{% for m in messages %}{{ loop.index }}:{{ m.role|upper }} {{ m.content|tojson }}{% endfor %}",
             "{% macro f(x, y=2) %}{{ x ~ y ~ varargs|length }}{{ caller() if caller }}{% endmacro %}"
             "{% call f(1) %}in{% endcall %}{{ f(1, 2, 3, k=4) }}",
             "{% set ns = namespace(n=0) %}{% for i in range(10) if i is even %}{% set ns.n = ns.n + i %}"
             "{% endfor %}{{ ns.n }}{{ '%5.2f|%-4s|%d' % (f, s, n) }}",
             "{{ s[::-1] }}{{ s[1:4] }}{{ s|truncate(5) }}{{ s|center(20) }}{{ s|wordcount }}{{ list|sort|join(',') }}",
             "{% filter upper %}{{ obj|dictsort }}{{ obj.items()|list }}{% endfilter %}{{ big + 1 }}{{ neg // -1 }}",
             "{{ tools|tojson(indent=2) }}{{ messages[-1].content }}{{ raise_exception('x') if none }}",
             "{% for a in range(1000) %}{% for b in range(1000) %}{% endfor %}{% endfor %}",
             "{{ 'ab' * 100 }}{{ ('x' ~ s) * 3 }}{{ [1] * 5 }}{{ s.split('o') }}{{ s.replace('l', 'LL') }}"]:
    add("jinja", tmpl, b"\x00")
for ctx in [{"messages": [{"role": "user", "content": "hi"}], "add_generation_prompt": True},
            {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "q"},
                          {"role": "assistant", "content": "<think>r</think>a", "tool_calls": [
                              {"function": {"name": "f", "arguments": {"a": 1}}}]},
                          {"role": "tool", "content": "out"}], "tools": [tool], "enable_thinking": False},
            {"messages": [{"role": "assistant", "reasoning_content": "why", "content": "x"}]}]:
    add("jinja", json.dumps(ctx), b"\x01")

for schema in ['{"type":"object","properties":{"a":{"type":"array","items":{"type":"integer"},"minItems":1,'
               '"maxItems":3},"b":{"enum":["x",1,null]}},"required":["a"],"additionalProperties":false}',
               '{"$defs":{"n":{"type":"object","properties":{"c":{"$ref":"#/$defs/n"}}}},"$ref":"#/$defs/n"}',
               '{"type":"string","format":"date-time"}', '{"anyOf":[{"type":"number","minimum":0},{"const":"z"}]}',
               '{"type":"string","pattern":"^[a-z]{2,4}$","minLength":2}', '{}', 'true']:
    add("grammar", schema, bytes([0]) + bytes(8))
for regex in ["[0-9]+(\\.[0-9]+)?", "(yes|no)", "a)|(?:b", "\\d{2,}x*", "(?i)abc", "[\\u4e00-\\u9fff]+", "(a+)+$"]:
    add("grammar", regex, bytes([1]) + bytes(8))
for ebnf in ['root ::= "a" root | "b"', 'root ::= item ("," item)*\nitem ::= [a-z]+ | "\\"" [^"]* "\\""',
             'root ::= x\nx ::= x "a"']:
    add("grammar", ebnf, bytes([2]) + bytes(8))

for text in ["Let me check.\n<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n"
             "<parameter=days>\n3\n</parameter>\n</function>\n</tool_call>",
             "<tool_call>\n<function=now>\n</function>\n</tool_call> trailing <tool_call>\n<function=execute_bash>"
             "\n<parameter=command>\nls\n</parameter>"]:
    add("tool_call_parser", text, b"\x00\x00")
    add("tool_call_parser", text, b"\x00\x02\x01\x05")
for text in ['Sure.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}\n</tool_call>',
             '<tool_call>\n{"name": "now", "arguments": {}}\n</tool_call>\n<tool_call>\n{"name": "nope", '
             '"arguments": {"x": "}\\"</tool_call>"}}\n</tool_call>', '<tool_call>{"name": "now"']:
    add("tool_call_parser", text, b"\x01\x00")
    add("tool_call_parser", text, b"\x01\x03\x01\x00\x09")
for text in ["<think>\nLet me add 2 and 2.\n</think>\n\nThe answer is 4.", "Hmm, 3 < 4.</think>\n\nYes.",
             "no tags at all", "<think>unfinished", "\u25c1think\u25b7plan\u25c1/think\u25b7answer",
             "<think></think><think>again</think>", "  \n<think>\n  x  \n</th"]:
    for mode in (0, 1, 2, 4, 12):
        add("reasoning_parser", text, bytes([mode, 2, 1, 3]))
for text in ["<think>\nThe user wants weather.\n</think>\n\nLet me check.\n<tool_call>\n<function=get_weather>\n"
             "<parameter=city>\nParis\n</parameter>\n</function>\n</tool_call>",
             '<think>why</think>\n\nOK.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "P"}}\n</tool_call>',
             '[{"name": "get_weather", "parameters": {"city": "P"}}, {"name": "now", "parameters": {}}]']:
    for o in (5, 6, 7, 0x0e, 0x4d, 0x85):
        add("chat_output", text, bytes([o, 1, 4]))


def safetensors(header, data=b""):
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data


add("safetensors", safetensors({"a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
                                "__metadata__": {"format": "pt"}}, bytes(16)), b"\x00")
add("safetensors", safetensors({"w": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 6]},
                                "s": {"dtype": "F8_E4M3", "shape": [1, 2], "data_offsets": [6, 8]},
                                "q": {"dtype": "I32", "shape": [], "data_offsets": [8, 12]}}, bytes(12)), b"\x00")
add("safetensors", safetensors({"big": {"dtype": "F32", "shape": [4611686018427387904, 4],
                                        "data_offsets": [0, 0]}}), b"\x00")
add("safetensors", struct.pack("<Q", 2 ** 63) + b"{}", b"\x00")
add("safetensors", '{"weight_map":{"a.weight":"model-00001.safetensors","model.b":"model-00001.safetensors"}}',
    b"\x01")
add("safetensors", '{"weight_map":{"x":"../model-00001.safetensors","y":"missing.safetensors"}}', b"\x01")

for path in files("conf/models", (".json",)):
    add("model_config", read(path))
if os.path.isdir(os.path.join(SHARED, "models")):
    for model in sorted(os.listdir(os.path.join(SHARED, "models"))):
        d = os.path.join(SHARED, "models", model)
        cfg = os.path.join(d, "config.json")
        if os.path.isfile(cfg):
            add("model_config", read(cfg))
        st = os.path.join(d, "model.safetensors")
        if model == "tiny-qwen3" and os.path.isfile(st):
            with open(st, "rb") as f:
                n = struct.unpack("<Q", f.read(8))[0]
                add("safetensors", struct.pack("<Q", n) + f.read(n), b"\x00")  # the header, no data

if os.path.isdir(OUT):
    shutil.rmtree(OUT)
total = 0
for target, bucket in sorted(seeds.items()):
    os.makedirs(os.path.join(OUT, target))
    for name, data in sorted(bucket.items())[:MAX_PER_TARGET]:
        with open(os.path.join(OUT, target, name), "wb") as f:
            f.write(data)
        total += len(data)
    print(f"{target}: {min(len(bucket), MAX_PER_TARGET)} seeds")
print(f"total {total} bytes", file=sys.stderr)
