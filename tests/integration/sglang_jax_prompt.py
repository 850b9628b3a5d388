#!/usr/bin/env python3
"""Renders a /v1/chat/completions request's prompt as SGLang-JAX does (serving_chat.py,
_process_messages + _apply_jinja_template at cddbf6f1): tools as pydantic Tool.model_dump()
({"type", "function": {"description", "name", "parameters", "strict"}}, defaults filled in; only
the named tool when tool_choice names one; none for tool_choice "none"), null content as "",
tool-call arguments parsed from their JSON string, then transformers' apply_chat_template
(sandboxed jinja2, trim_blocks, lstrip_blocks, loopcontrols, Python's json.dumps as tojson).

With tool_choice "auto", a tool marked strict and a parser that supports structural tags (qwen25;
upstream SGLang's hermes alike), SGLang-JAX also defaults chat_template_kwargs.enable_thinking to
false (get_structure_constraint → structural_tag).

Usage: sglang_jax_prompt.py REQUEST.json TOKENIZER_DIR [TOOL_CALL_PARSER]  -> prints ["<prompt>"] (a corpus for
tests/node/tokenize_fixtures.mjs, which counts its tokens with transformers.js).
Run with Debian's /usr/bin/python3 (python3-jinja2)."""
import json
import sys

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


def model_dump_tool(tool):
    fn = tool["function"]
    return {
        "type": tool.get("type", "function"),
        "function": {
            "description": fn.get("description"),
            "name": fn.get("name"),
            "parameters": fn.get("parameters"),
            "strict": fn.get("strict", False),
        },
    }


def template_tools(req):
    tools, choice = req.get("tools"), req.get("tool_choice", "auto")
    if not tools or choice == "none":
        return None
    if isinstance(choice, dict):
        name = choice["function"]["name"]
        return [model_dump_tool(t) for t in tools if t["function"].get("name") == name]
    return [model_dump_tool(t) for t in tools]


def messages(req):
    out = []
    for m in req["messages"]:
        m = dict(m)
        if m.get("content") is None:
            m["content"] = ""
        if isinstance(m["content"], list):  # the "string" content format: text parts joined
            m["content"] = "".join(p.get("text", "") for p in m["content"] if isinstance(p, dict))
        for call in m.get("tool_calls") or []:
            args = call["function"].get("arguments")
            if isinstance(args, str):
                try:
                    call["function"]["arguments"] = json.loads(args)
                except ValueError:
                    pass
        out.append(m)
    return out


def render(req, tokenizer_dir, parser=None):
    with open(f"{tokenizer_dir}/tokenizer_config.json", encoding="utf-8") as f:
        config = json.load(f)
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = lambda x, ensure_ascii=False, indent=None, separators=None, sort_keys=False: json.dumps(
        x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    env.globals["raise_exception"] = raise_exception
    ctx = dict(req.get("chat_template_kwargs") or {})
    strict = any(t["function"].get("strict") for t in req.get("tools") or [])
    if parser in ("qwen25", "hermes") and req.get("tool_choice", "auto") == "auto" and strict:
        ctx.setdefault("enable_thinking", False)
    special = lambda t: (t.get("content") if isinstance(t, dict) else t) or ""
    ctx.update(messages=messages(req), add_generation_prompt=True,
               bos_token=special(config.get("bos_token")), eos_token=special(config.get("eos_token")))
    tools = template_tools(req)
    if tools is not None:
        ctx["tools"] = tools
    return env.from_string(config["chat_template"]).render(**ctx)


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as f:
        request = json.load(f)
    print(json.dumps([render(request, sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)],
                     ensure_ascii=False))
