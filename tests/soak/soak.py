#!/usr/bin/python3
"""Soak a live sglcpp-server with SGLang's traffic mix and check that nothing leaks.

usage: soak.py BASE_URL N CONCURRENCY [--pid PID] [--warmup W] [--seed S] [--json FILE]

The mix (one job = one request unless said): /generate single, batch (3 prompts) and streaming,
greedy with logprobs, chat with forced tool calls, chat with a JSON-schema response_format, chat
streaming with logprobs, /v1/completions with n=3, long greedy generations whose bursts exhaust a
small KV pool (the server must retract, not fail), clients that vanish mid-stream, aborts by rid,
malformed and oversized bodies, and prompts longer than the context. Standard library only.

Holds when: every well-formed request is answered 200 with a valid body (greedy ones equal to their
reference, computed once alone before the load), every bad one gets its documented 4xx in the API's
own error shape, no 5xx and no dropped connection; afterwards nothing runs or waits, no radix node
is locked, and after /flush_cache every KV page is free. With --pid: resident memory after the run
is within 5 % of after the warm-up, and the process holds no more file descriptors than then.
Prints one line per finding (at most 20) and a summary; exit 0 when everything holds.
"""
import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time

# ---------------------------------------------------------------------------------------------
# A minimal HTTP/1.1 client on asyncio streams: one connection per request (Connection: close),
# Content-Length or chunked bodies, and a per-chunk callback for streams.


class Dropped(Exception):
    """The server closed or reset the connection before a complete answer."""


async def http(host, port, method, path, body=None, raw=None, headers=None, on_data=None, timeout=300):
    """Returns (status, headers dict, body bytes). `on_data(bytes)` sees the body as it arrives;
    when it returns False the client drops the connection at once (a vanishing client) and
    (None, {}, b"") comes back."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
    head = "%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n" % (method, path, host, port)
    if data or method == "POST":
        head += "Content-Type: application/json\r\nContent-Length: %d\r\n" % len(data)
    for k, v in (headers or {}).items():
        head += "%s: %s\r\n" % (k, v)
    reader, writer = await asyncio.open_connection(host, port, limit=1 << 24)
    try:
        return await asyncio.wait_for(_exchange(reader, writer, head.encode() + b"\r\n" + data, on_data), timeout)
    finally:
        writer.close()


async def _exchange(reader, writer, request, on_data):
    try:
        writer.write(request)
        await writer.drain()
    except (ConnectionError, OSError):
        pass  # a refused body still gets its answer (413, 503): read it
    try:
        status_line = await reader.readline()
        if not status_line:
            raise Dropped("connection closed before the status line")
        status = int(status_line.split()[1])
        headers = {}
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            k, _, v = line.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()
        body = bytearray()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    await reader.readline()
                    break
                chunk = await reader.readexactly(size + 2)
                body += chunk[:-2]
                if on_data and on_data(bytes(chunk[:-2])) is False:
                    return None, {}, b""
        elif "content-length" in headers:
            body += await reader.readexactly(int(headers["content-length"]))
        else:
            body += await reader.read()
        return status, headers, bytes(body)
    except (asyncio.IncompleteReadError, ConnectionError, OSError, ValueError, IndexError) as e:
        raise Dropped("%s: %s" % (type(e).__name__, e))


def sse_events(body):
    """The JSON payloads of an SSE body's data lines, and whether it ended with [DONE]."""
    events, done = [], False
    for line in body.decode("utf-8", "replace").split("\n"):
        line = line.strip()
        if line == "data: [DONE]":
            done = True
        elif line.startswith("data: "):
            events.append(json.loads(line[6:]))
    return events, done


# ---------------------------------------------------------------------------------------------
# The traffic.

PROMPTS = [
    ("The capital of France is", 12), ("def fibonacci(n):", 24), ("Once upon a time", 32),
    ("SELECT name FROM users WHERE", 16), ("The quick brown fox", 8), ("import numpy as np", 40),
    ("Dear Sir or Madam,", 20), ("In 1492, Columbus", 28), ("The mitochondria is", 14),
    ("for (int i = 0;", 36), ("Water boils at", 10), ("My favourite colour is", 18),
]
BATCH_TOKENS = 16
LONG = [("Write a very long story about a lighthouse keeper:", 700), ("List every prime number:", 900)]
SCHEMA = {"type": "object", "properties": {"city": {"type": "string", "maxLength": 10},
          "size": {"enum": ["small", "big"]}, "capital": {"type": "boolean"}},
          "required": ["city", "size", "capital"]}
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string", "maxLength": 12}, "unit": {"enum": ["c", "f"]}},
    "required": ["city", "unit"]}}},
    {"type": "function", "function": {"name": "get_time", "parameters": {
        "type": "object", "properties": {"zone": {"enum": ["utc", "local"]}}, "required": ["zone"]}}}]


def truncated_under_grammar(j, opener):
    """A grammar-constrained answer cut by max_tokens: the JSON grammar allows whitespace between
    tokens (as xgrammar's any_whitespace, SGLang's default), and a tiny model at temperature 1 may
    spend its budget there. Correct when it stopped for length with a prefix of the grammar."""
    try:
        c = j["choices"][0]
        text = (c["message"].get("content") or "").lstrip()
        return c["finish_reason"] == "length" and (text == "" or text.startswith(opener))
    except (KeyError, IndexError, TypeError, AttributeError):
        return False


def greedy(n, **extra):
    p = {"max_new_tokens": n, "temperature": 0}
    p.update(extra)
    return p


def native_error(body, status):
    j = json.loads(body)
    return list(j) == ["error"] and isinstance(j["error"].get("message"), str)


def openai_error(body, status):
    j = json.loads(body)
    return j.get("object") == "error" and isinstance(j.get("message"), str) and j.get("code") == status


# (name, path, raw body, expected status, shape check); the oversized ones need --max-payload-size 1 MB.
BAD = [
    ("bad json", "/generate", b"{bad json", 400, native_error),
    ("empty text", "/generate", b'{"text": ""}', 400, native_error),
    ("text not a string", "/generate", b'{"text": 5}', 400, native_error),
    ("invalid utf-8", "/generate", b'{"text": "caf\xc3\x28"}', 400, native_error),
    ("token id out of range", "/generate", b'{"input_ids": [999999999]}', 400, native_error),
    ("negative temperature", "/generate", b'{"text": "x", "sampling_params": {"temperature": -1}}', 400, native_error),
    ("top_p 0", "/generate", b'{"text": "x", "sampling_params": {"top_p": 0}}', 400, native_error),
    ("max_new_tokens past the context", "/generate",
     b'{"text": "x", "sampling_params": {"max_new_tokens": 99999999}}', 400, native_error),
    ("unknown sampling param", "/generate", b'{"text": "x", "sampling_params": {"bogus": 1}}', 400, native_error),
    ("bad regex", "/generate", b'{"text": "x", "sampling_params": {"regex": "(unclosed"}}', 400, native_error),
    ("deep nesting", "/generate", b"{" * 100000, 400, native_error),
    ("oversized body", "/generate", b'{"text": "' + b"a" * (3 << 19) + b'"}', 413, native_error),
    ("completions bad json", "/v1/completions", b"{bad", 400, openai_error),
    ("completions max_tokens 0", "/v1/completions", b'{"model": "m", "prompt": "x", "max_tokens": 0}', 400,
     openai_error),
    ("completions n 0", "/v1/completions", b'{"model": "m", "prompt": "x", "n": 0}', 400, openai_error),
    ("chat no messages", "/v1/chat/completions", b'{"model": "m", "messages": []}', 400, openai_error),
    ("chat unknown role", "/v1/chat/completions", b'{"model": "m", "messages": [{"role": "alien", "content": "x"}]}',
     400, openai_error),
    ("chat bad response_format", "/v1/chat/completions",
     b'{"model": "m", "messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_schema", '
     b'"json_schema": {"name": "x", "schema": {"type": "array", "minItems": 3, "maxItems": 1}}}}', 400, openai_error),
    ("chat oversized body", "/v1/chat/completions",
     b'{"model": "m", "messages": [{"role": "user", "content": "' + b"a" * (3 << 19) + b'"}]}', 413, openai_error),
]


class Soak:
    def __init__(self, base, seed):
        hostport = base.split("//", 1)[1].rstrip("/")
        self.host, port = hostport.rsplit(":", 1)
        self.port = int(port)
        self.rng = random.Random(seed)
        self.refs = {}
        self.stats = {}  # kind -> {"ok", "refused", "vanished", "fail"}
        self.findings = []
        self.next_rid = 0

    def call(self, method, path, body=None, **kw):
        return http(self.host, self.port, method, path, body=body, **kw)

    def note(self, kind, outcome, detail=""):
        self.stats.setdefault(kind, {"ok": 0, "refused": 0, "vanished": 0, "fail": 0})[outcome] += 1
        if outcome == "fail" and len(self.findings) < 20:
            self.findings.append("%s: %s" % (kind, detail[:300]))

    async def post_json(self, path, body, timeout=300):
        status, _, data = await self.call("POST", path, body, timeout=timeout)
        return status, (json.loads(data) if data else None), data

    # -- references: each greedy prompt once, alone, before any load ------------------------------
    async def compute_references(self):
        wanted = [(p, n) for p, n in PROMPTS] + [(p, BATCH_TOKENS) for p, _ in PROMPTS] + LONG
        for p, n in wanted:
            if (p, n) in self.refs:
                continue
            extra = {"ignore_eos": True} if (p, n) in LONG else {}
            status, j, raw = await self.post_json("/generate", {"text": p, "sampling_params": greedy(n, **extra)})
            if status != 200:
                raise RuntimeError("reference %r: status %s %s" % (p, status, raw[:200]))
            self.refs[(p, n)] = j["text"]

    # -- the jobs: each returns (outcome, detail) ---------------------------------------------------
    async def gen_single(self):
        p, n = self.rng.choice(PROMPTS)
        s, j, raw = await self.post_json("/generate", {"text": p, "sampling_params": greedy(n)})
        if s == 200 and j.get("text") == self.refs[(p, n)]:
            return "ok", ""
        return "fail", "status %s, %r vs reference %r" % (s, (j or {}).get("text", raw[:120]), self.refs[(p, n)])

    async def gen_batch(self):
        picks = self.rng.sample(PROMPTS, 3)
        s, j, raw = await self.post_json("/generate", {"text": [p for p, _ in picks],
                                                       "sampling_params": greedy(BATCH_TOKENS)})
        if s == 200 and isinstance(j, list) and [x.get("text") for x in j] == [self.refs[(p, BATCH_TOKENS)]
                                                                             for p, _ in picks]:
            return "ok", ""
        return "fail", "status %s %s" % (s, raw[:200])

    async def gen_stream(self):
        p, n = self.rng.choice(PROMPTS)
        s, _, raw = await self.call("POST", "/generate", {"text": p, "stream": True, "sampling_params": greedy(n)})
        events, done = sse_events(raw) if s == 200 else ([], False)
        if s == 200 and done and events and events[-1].get("text") == self.refs[(p, n)]:
            return "ok", ""
        return "fail", "status %s done=%s last=%s" % (s, done, json.dumps(events[-1:])[:200])

    async def gen_logprobs(self):
        p, n = self.rng.choice(PROMPTS)
        s, j, raw = await self.post_json("/generate", {"text": p, "return_logprob": True, "top_logprobs_num": 2,
                                                       "sampling_params": greedy(n)})
        if s != 200:
            return "fail", "status %s %s" % (s, raw[:200])
        m = j["meta_info"]
        k = m["completion_tokens"]
        if (j["text"] == self.refs[(p, n)] and len(m.get("output_token_logprobs", [])) == k
                and all(len(t) == 2 for t in m.get("output_top_logprobs", [])) and len(m["output_top_logprobs"]) == k):
            return "ok", ""
        return "fail", "logprobs lengths or text differ: %s" % raw[:200]

    async def gen_long(self):
        # Bursts of these (each several hundred tokens) exceed the small KV pool: retraction.
        p, n = self.rng.choice(LONG)
        s, j, raw = await self.post_json("/generate", {"text": p, "sampling_params": greedy(n, ignore_eos=True)})
        if s == 200 and j["meta_info"]["completion_tokens"] == n and j["text"] == self.refs[(p, n)]:
            return "ok", ""
        return "fail", "status %s tokens %s, equal to reference: %s" % (
            s, (j or {}).get("meta_info", {}).get("completion_tokens"), (j or {}).get("text") == self.refs[(p, n)])

    async def chat_tools(self):
        body = {"model": "m", "messages": [{"role": "user", "content": "Weather or time? %d" % self.rng.randint(0, 99)}],
                "tools": TOOLS, "tool_choice": "required", "parallel_tool_calls": False, "max_tokens": 200,
                "temperature": self.rng.choice([0, 0.8])}
        s, j, raw = await self.post_json("/v1/chat/completions", body)
        if truncated_under_grammar(j, "["):
            return "ok", ""
        try:
            c = j["choices"][0]
            call = c["message"]["tool_calls"][0]["function"]
            args = json.loads(call["arguments"])
            good = (c["finish_reason"] == "tool_calls" and
                    (call["name"] == "get_weather" and args["unit"] in ("c", "f") or
                     call["name"] == "get_time" and args["zone"] in ("utc", "local")))
        except (KeyError, IndexError, TypeError, ValueError):
            good = False
        return ("ok", "") if s == 200 and good else ("fail", "status %s %s" % (s, raw[:200]))

    async def chat_schema(self):
        body = {"model": "m", "messages": [{"role": "user", "content": "Describe a city as JSON."}], "max_tokens": 200,
                "temperature": self.rng.choice([0, 1]),
                "response_format": {"type": "json_schema", "json_schema": {"name": "city", "schema": SCHEMA}}}
        s, j, raw = await self.post_json("/v1/chat/completions", body)
        if truncated_under_grammar(j, "{"):
            return "ok", ""
        try:
            v = json.loads(j["choices"][0]["message"]["content"])
            good = v["size"] in ("small", "big") and isinstance(v["capital"], bool) and len(v["city"]) <= 10
        except (KeyError, IndexError, TypeError, ValueError):
            good = False
        return ("ok", "") if s == 200 and good else ("fail", "status %s %s" % (s, raw[:200]))

    async def chat_stream_logprobs(self):
        body = {"model": "m", "stream": True, "logprobs": True, "top_logprobs": 2, "max_tokens": 16,
                "messages": [{"role": "user", "content": "hello %d" % self.rng.randint(0, 999)}]}
        s, _, raw = await self.call("POST", "/v1/chat/completions", body)
        events, done = sse_events(raw) if s == 200 else ([], False)
        finishes = [c.get("finish_reason") for e in events for c in e.get("choices", []) if c.get("finish_reason")]
        content = [c for e in events for c in e.get("choices", []) if c.get("delta", {}).get("content")]
        if s == 200 and done and finishes and all(c.get("logprobs", {}).get("content") for c in content):
            return "ok", ""
        return "fail", "status %s done=%s finishes=%s" % (s, done, finishes)

    async def completions_n(self):
        body = {"model": "m", "prompt": self.rng.choice(PROMPTS)[0], "n": 3, "max_tokens": 12, "temperature": 0.8}
        s, j, raw = await self.post_json("/v1/completions", body)
        try:
            good = sorted(c["index"] for c in j["choices"]) == [0, 1, 2] and all(
                c["finish_reason"] in ("length", "stop") for c in j["choices"]) and j["usage"]["completion_tokens"] > 0
        except (KeyError, TypeError):
            good = False
        return ("ok", "") if s == 200 and good else ("fail", "status %s %s" % (s, raw[:200]))

    async def vanish(self):
        # A long stream read for a moment, then the socket closes under it.
        left = [self.rng.choice([1, 200, 4000, 20000])]

        def on_data(chunk):
            left[0] -= len(chunk)
            return left[0] > 0

        body = {"text": "x" * self.rng.randint(1, 200), "stream": True,
                "sampling_params": {"max_new_tokens": 2000, "ignore_eos": True}}
        s, _, raw = await self.call("POST", "/generate", body, on_data=on_data)
        if s is None or s == 200:
            return "vanished", ""
        return "fail", "vanishing client got status %s %s" % (s, raw[:200])

    async def abort(self):
        self.next_rid += 1
        rid = "soak-%d-%d" % (id(self) % 1000, self.next_rid)
        aborter, sent = [], [None]

        def on_data(chunk):
            if not aborter and b"data: {" in chunk:  # the rid is known to the server now
                sent[0] = time.time()
                aborter.append(asyncio.ensure_future(self.post_json("/abort_request", {"rid": rid})))
            return True

        s, _, raw = await self.call("POST", "/generate", {
            "text": "abort me", "rid": rid, "stream": True,
            "sampling_params": {"max_new_tokens": 3000, "ignore_eos": True}}, on_data=on_data)
        if aborter:
            await aborter[0]
        events, done = sse_events(raw) if s == 200 else ([], False)
        reason = events[-1].get("meta_info", {}).get("finish_reason", {}).get("type") if events else None
        # The stream must end soon after the abort (queueing before its first token under a full
        # load is not the abort's latency).
        took = time.time() - sent[0] if sent[0] else float("inf")
        if s == 200 and done and reason in ("abort", "length") and took < 30:
            return "ok", ""
        return "fail", "rid %s: status %s done=%s finish=%s, ended %.0f s after the abort" % (rid, s, done, reason, took)

    async def bad(self):
        name, path, raw_body, want, shape = self.rng.choice(BAD)
        s, _, raw = await self.call("POST", path, raw=raw_body, timeout=60)
        try:
            good = s == want and shape(raw, want)
        except ValueError:
            good = False
        return ("refused", "") if good else ("fail", "%s: status %s (want %s) %s" % (name, s, want, raw[:160]))

    async def over_context(self):
        text = "hello " * self.rng.choice([5000, 20000])
        if self.rng.random() < 0.5:
            s, _, raw = await self.call("POST", "/generate", {"text": text})
            good = s == 400 and native_error(raw, 400)
        else:
            s, _, raw = await self.call("POST", "/v1/chat/completions",
                                        {"model": "m", "messages": [{"role": "user", "content": text}]})
            good = s == 400 and openai_error(raw, 400)
        good = good and (b"context length" in raw or b"maximum allowed length" in raw)
        return ("refused", "") if good else ("fail", "status %s %s" % (s, raw[:200]))

    async def oversized_header(self):
        s, _, raw = await self.call("GET", "/health", headers={"X-Big": "a" * 20000}, timeout=60)
        return ("refused", "") if s == 431 else ("fail", "20 kB header: status %s" % s)

    KINDS = [("gen_single", 14), ("gen_batch", 6), ("gen_stream", 10), ("gen_logprobs", 6), ("gen_long", 8),
             ("chat_tools", 6), ("chat_schema", 6), ("chat_stream_logprobs", 6), ("completions_n", 6),
             ("vanish", 8), ("abort", 5), ("bad", 12), ("over_context", 4), ("oversized_header", 3)]

    async def run_mix(self, n, concurrency, label):
        names = [k for k, w in self.KINDS for _ in range(w)]
        jobs = [self.rng.choice(names) for _ in range(n)]
        # Bursts: every 200 jobs, 48 long generations back to back.
        for start in range(0, n, 200):
            for i in range(start, min(start + 48, n)):
                if self.rng.random() < 0.75:
                    jobs[i] = "gen_long"
        queue = asyncio.Queue()
        for j in jobs:
            queue.put_nowait(j)
        t0 = time.time()

        async def worker():
            while True:
                try:
                    kind = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                try:
                    outcome, detail = await getattr(self, kind)()
                except Dropped as e:
                    outcome, detail = "fail", "dropped connection: %s" % e
                except asyncio.TimeoutError:
                    outcome, detail = "fail", "no answer within the time-out"
                except Exception as e:  # a client-side surprise is a finding, never the end of the soak
                    outcome, detail = "fail", "%s: %s" % (type(e).__name__, e)
                self.note(kind, outcome, detail)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        secs = time.time() - t0
        print("[%s] %d requests at concurrency %d in %.0f s" % (label, n, concurrency, secs), flush=True)
        return secs

    # -- the server's own view -----------------------------------------------------------------------
    async def server_state(self):
        s, _, raw = await self.call("GET", "/get_server_info", timeout=30)
        return json.loads(raw)["internal_states"][0] if s == 200 else None

    async def metric(self, name):
        s, _, raw = await self.call("GET", "/metrics", timeout=30)
        if s != 200:
            return None
        for line in raw.decode().splitlines():
            if line.startswith(name + "{") or line.startswith(name + " "):
                return float(line.split()[-1])
        return None

    async def settle(self):
        """Waits until nothing runs or waits, flushes the radix cache, and returns the state after."""
        st = None
        for _ in range(240):
            st = await self.server_state()
            if st and st["running_batch_size"] == 0 and st["waiting_queue_size"] == 0:
                break
            await asyncio.sleep(0.25)
        await self.call("POST", "/flush_cache", timeout=30)
        for _ in range(40):
            st = await self.server_state()
            if st and st["num_used_tokens"] == 0:
                break
            await asyncio.sleep(0.25)
        return st


def proc_status(pid):
    rss = None
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
    return rss, len(os.listdir("/proc/%d/fd" % pid))


def inspect(a, when):
    if a.inspect and a.pid:
        out = subprocess.run(a.inspect.replace("{pid}", str(a.pid)), shell=True, capture_output=True, text=True)
        print("INSPECT %s (RSS %.1f MiB):\n%s%s" % (when, proc_status(a.pid)[0] / 2**20, out.stdout, out.stderr), flush=True)


async def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("base")
    ap.add_argument("n", type=int)
    ap.add_argument("concurrency", type=int)
    ap.add_argument("--pid", type=int, help="the server's process id: check its RSS and descriptors")
    ap.add_argument("--warmup", type=int, default=400, help="requests of the same mix before the baseline")
    ap.add_argument("--seed", type=int, default=25)
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--rss-tolerance", type=float, default=0.05)
    ap.add_argument("--inspect", help="a shell command run (its output printed) where RSS is measured, after the "
                    "warm-up and after the run, with {pid} replaced: e.g. gdb's call of malloc_stats()")
    a = ap.parse_args()
    soak = Soak(a.base, a.seed)
    failures = []
    await soak.compute_references()
    await soak.run_mix(a.warmup, a.concurrency, "warm-up")
    idle0 = await soak.settle()
    # The scheduler hands freed memory back after a second idle (malloc_trim): measure after it,
    # the same way both times.
    await asyncio.sleep(2.5)
    base_rss, base_fds = proc_status(a.pid) if a.pid else (None, None)
    inspect(a, "after the warm-up")
    retracted0 = await soak.metric("sglang:num_retracted_requests_total") or 0
    soak.stats.clear()
    soak.findings.clear()
    secs = await soak.run_mix(a.n, a.concurrency, "soak")
    idle = await soak.settle()
    await asyncio.sleep(2.5)
    retracted = (await soak.metric("sglang:num_retracted_requests_total") or 0) - retracted0
    rss, fds = None, None
    if a.pid:
        # Connections the server has not yet seen close are still descriptors: give them a moment.
        for _ in range(40):
            rss, fds = proc_status(a.pid)
            if fds <= base_fds:
                break
            await asyncio.sleep(0.25)
    inspect(a, "after the run")
    health, _, _ = await soak.call("GET", "/health", timeout=30)

    total = {k: sum(v[k] for v in soak.stats.values()) for k in ("ok", "refused", "vanished", "fail")}
    for f in soak.findings:
        print("FINDING " + f)
    for kind, v in sorted(soak.stats.items()):
        print("  %-22s ok %5d  refused %5d  vanished %5d  fail %3d" % (kind, v["ok"], v["refused"], v["vanished"],
                                                                       v["fail"]))
    if total["fail"]:
        failures.append("%d request(s) failed" % total["fail"])
    if health != 200:
        failures.append("server not healthy after the soak (status %s)" % health)
    if not idle or idle["running_batch_size"] or idle["waiting_queue_size"] or idle["radix_locked_nodes"]:
        failures.append("not idle after the soak: %s" % idle)
    elif idle["num_used_tokens"] or idle["num_free_pages"] != idle["num_total_pages"]:
        failures.append("KV pool not back to its idle values after /flush_cache: %s" % idle)
    if retracted <= 0:
        failures.append("no request was retracted: the bursts did not exhaust the KV pool (premise)")
    if a.pid:
        growth = (rss - base_rss) / base_rss
        if growth > a.rss_tolerance:
            failures.append("RSS grew %.1f %% (%.1f -> %.1f MiB), over %.0f %%" % (
                100 * growth, base_rss / 2**20, rss / 2**20, 100 * a.rss_tolerance))
        if fds > base_fds:
            failures.append("file descriptors grew: %d after the warm-up, %d after the soak" % (base_fds, fds))
    figures = {
        "requests": a.n, "concurrency": a.concurrency, "warmup": a.warmup, "seconds": round(secs, 1),
        "outcomes": total, "by_kind": soak.stats, "retracted_requests": retracted,
        "idle_after_warmup": idle0, "idle_after": idle,
        "rss_after_warmup_mib": base_rss and round(base_rss / 2**20, 1), "rss_after_mib": rss and round(rss / 2**20, 1),
        "fds_after_warmup": base_fds, "fds_after": fds, "failures": failures,
    }
    if a.json:
        with open(a.json, "w") as f:
            json.dump(figures, f, indent=1)
    for f in failures:
        print("FAIL " + f)
    print("soak: %d requests at concurrency %d in %.0f s: %d ok, %d refused as documented, %d vanished, %d failed; "
          "%d retracted; idle used_tokens=%s locked_nodes=%s free_pages=%s/%s; RSS %s -> %s MiB; fds %s -> %s" % (
              a.n, a.concurrency, secs, total["ok"], total["refused"], total["vanished"], total["fail"], retracted,
              idle and idle["num_used_tokens"], idle and idle["radix_locked_nodes"], idle and idle["num_free_pages"],
              idle and idle["num_total_pages"], figures["rss_after_warmup_mib"], figures["rss_after_mib"], base_fds, fds))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
