"""Client side of lora_test.sh: greedy answers recorded from reference servers (the base model and
each adapter's merged checkpoint), then the LoRA server's answers checked against them.

  lora_check.py reference URL OUT.json          record this server's answers
  lora_check.py disabled URL                    a server without --enable-lora refuses adapters
  lora_check.py main URL REFDIR SERVED ADIR     the full-pool server (--lora-paths a=... b=...)
  lora_check.py pool URL REFDIR SERVED ADIR     --max-loras-per-batch 2 --max-loaded-loras 3

REFDIR holds base.json, a.json ... (one per reference server); ADIR holds the adapters lora-a ...
Every failure is printed as FAIL: ... and counted; the exit status is the number of failures.
"""
import json
import sys
import threading
import time
import urllib.error
import urllib.request

PROMPTS = ["The capital of France is", "def fibonacci(n):", "Once upon a time", "1, 2, 3, 4,"]
NEW_TOKENS = 12
CHAT = [{"role": "user", "content": "Name three colours."}]
fails = 0


def fail(msg):
    global fails
    fails += 1
    print("FAIL:", msg, flush=True)


def parsed(raw):
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return raw.decode(errors="replace")


def post(base, path, body, timeout=120):
    """(status, body parsed as JSON where it is JSON) of a POST."""
    req = urllib.request.Request(base + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, parsed(r.read())
    except urllib.error.HTTPError as e:
        return e.code, parsed(e.read())


def get(base, path):
    with urllib.request.urlopen(base + path, timeout=60) as r:
        return json.load(r)


def greedy(prompt, **extra):
    body = {"text": prompt, "sampling_params": {"max_new_tokens": NEW_TOKENS, "temperature": 0, "ignore_eos": True}}
    body.update(extra)
    return body


def generate(base, prompt, lora=None, **extra):
    body = greedy(prompt, **extra)
    if lora is not None:
        body["lora_path"] = lora
    code, r = post(base, "/generate", body)
    if code != 200:
        fail(f"/generate lora_path={lora!r}: {code} {json.dumps(r)[:300]}")
        return None
    return r


def chat(base, model, **extra):
    body = {"model": model, "messages": CHAT, "max_tokens": NEW_TOKENS, "temperature": 0, "ignore_eos": True}
    body.update(extra)
    return post(base, "/v1/chat/completions", body)


def expect_same(what, got, want):
    if got != want:
        first = next((i for i, (x, y) in enumerate(zip(got or [], want or [])) if x != y), None)
        fail(f"{what}: output ids differ from the reference at position {first}: {got} vs {want}")


def check_refs(base, ref, name, lora, what):
    """Each prompt's greedy ids with `lora` equal the reference server `name`'s."""
    for i, p in enumerate(PROMPTS):
        r = generate(base, p, lora)
        if r:
            expect_same(f"{what} prompt {i}", r["output_ids"], ref[name]["ids"][i])


def state(base):
    return get(base, "/get_server_info")


def wait_idle(base):
    for _ in range(100):
        s = state(base)
        if s["internal_states"][0]["running_batch_size"] == 0 and s["internal_states"][0]["waiting_queue_size"] == 0:
            return s
        time.sleep(0.1)
    fail("the server did not go idle")
    return state(base)


def load(base, name, path, pinned=False):
    return post(base, "/load_lora_adapter", {"lora_name": name, "lora_path": path, "pinned": pinned})


def unload(base, name):
    return post(base, "/unload_lora_adapter", {"lora_name": name})


def concurrent(base, ref, jobs, what):
    """Runs (reference name, lora_path, prompt index) jobs at once; each must answer as alone."""
    results = [None] * len(jobs)

    def run(k, lora, i):
        results[k] = generate(base, PROMPTS[i], lora)

    threads = [threading.Thread(target=run, args=(k, lora, i)) for k, (_, lora, i) in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k, (name, lora, i) in enumerate(jobs):
        if results[k]:
            expect_same(f"{what}: request {k} ({lora!r}, prompt {i}) among {len(jobs)}", results[k]["output_ids"],
                        ref[name]["ids"][i])


def check_no_leak(base, what):
    s = wait_idle(base)
    pool = s.get("lora_pool", {})
    if pool.get("in_flight_requests") != 0:
        fail(f"{what}: adapters still held by {pool.get('in_flight_requests')} requests: {pool}")
    if not pool.get("slot_loads", 0) > 0:
        fail(f"{what}: no adapter was ever put in a slot: {pool}")
    if pool.get("slots_used", 0) > pool.get("slots_total", 0):
        fail(f"{what}: more slots used than exist: {pool}")
    if s["internal_states"][0]["radix_locked_nodes"] != 0:
        fail(f"{what}: radix nodes still locked")
    post(base, "/flush_cache", {})
    for _ in range(50):
        st = state(base)["internal_states"][0]
        if st["num_used_tokens"] == 0:
            break
        time.sleep(0.1)
    if st["num_used_tokens"] != 0 or st["num_free_pages"] != st["num_total_pages"]:
        fail(f"{what}: KV leaked after flush: {st['num_used_tokens']} tokens used")
    return pool


def reference(base, out):
    ids, texts = [], []
    for p in PROMPTS:
        r = generate(base, p)
        ids.append(r["output_ids"] if r else None)
        texts.append(r["text"] if r else None)
    code, c = chat(base, "m")
    content = c["choices"][0]["message"]["content"] if code == 200 else None
    json.dump({"ids": ids, "texts": texts, "chat": content}, open(out, "w"))


def disabled(base):
    """A server without --enable-lora refuses adapters by name, naming the flag."""
    code, r = post(base, "/generate", greedy(PROMPTS[0], lora_path="a"))
    if code != 400 or "--enable-lora" not in r.get("error", {}).get("message", ""):
        fail(f"lora_path without --enable-lora: {code} {json.dumps(r)[:200]}")
    code, r = post(base, "/v1/completions", {"model": "m", "prompt": "x", "max_tokens": 2, "lora_path": "a"})
    if code != 400 or r.get("object") != "error":
        fail(f"completions lora_path without --enable-lora: {code} {json.dumps(r)[:200]}")
    for path, body in (("/load_lora_adapter", {"lora_name": "a", "lora_path": "/x"}),
                       ("/unload_lora_adapter", {"lora_name": "a"})):
        code, r = post(base, path, body)
        if code != 400 or r.get("success") is not False or "--enable-lora" not in (r.get("error_message") or ""):
            fail(f"{path} without --enable-lora: {code} {r}")
    # A model name with a colon stays the base model, as before LoRA existed.
    code, r = chat(base, "qwen3:8b")
    if code != 200:
        fail(f"chat with model qwen3:8b without --enable-lora: {code} {json.dumps(r)[:200]}")
    if "lora_pool" in state(base):
        fail("server info shows a lora_pool without --enable-lora")


def main_server(base, ref, served, adir):
    print("main: adapters from --lora-paths equal their merged checkpoints", flush=True)
    check_refs(base, ref, "a", "a", "lora_path a vs merged a")
    check_refs(base, ref, "b", "b", "lora_path b (rsLoRA, rank 16) vs merged b")
    check_refs(base, ref, "base", None, "no lora_path vs the base model")
    for i, p in enumerate(PROMPTS[:2]):
        r = generate(base, p, lora=None, **{"lora_path": None})
        if r:
            expect_same(f"lora_path null prompt {i}", r["output_ids"], ref["base"]["ids"][i])

    print("main: a batch picks each prompt's adapter", flush=True)
    code, r = post(base, "/generate", greedy(PROMPTS[:3], lora_path=["a", None, "b"]))
    if code != 200 or not isinstance(r, list) or len(r) != 3:
        fail(f"batch with lora_path [a, null, b]: {code} {json.dumps(r)[:300]}")
    else:
        for i, name in enumerate(["a", "base", "b"]):
            expect_same(f"batch item {i} ({name})", r[i]["output_ids"], ref[name]["ids"][i])
    code, r = post(base, "/generate", greedy(PROMPTS[:2], lora_path="b"))
    if code == 200:
        for i in range(2):
            expect_same(f"batch with one lora_path for all, item {i}", r[i]["output_ids"], ref["b"]["ids"][i])
    code, r = post(base, "/generate", greedy(PROMPTS[:3], lora_path=["a", None]))
    if code != 400 or "lora_path" not in json.dumps(r):
        fail(f"lora_path list shorter than the batch: {code} {json.dumps(r)[:200]}")

    print("main: OpenAI routes (model base:adapter, lora_path)", flush=True)
    code, by_model = chat(base, served + ":a")
    code2, by_field = chat(base, "anything", lora_path="a")
    code3, spaced = chat(base, served + ": a ")
    if code != 200 or code2 != 200 or code3 != 200:
        fail(f"chat with adapter a: {code} {code2} {code3}")
    else:
        want = ref["a"]["chat"]
        for what, got in (("model served:a", by_model), ("lora_path a", by_field), ("model 'served: a '", spaced)):
            if got["choices"][0]["message"]["content"] != want:
                fail(f"chat {what}: {got['choices'][0]['message']['content']!r} vs merged a {want!r}")
    # The model's adapter wins over lora_path.
    code, r = chat(base, served + ":a", lora_path="b")
    if code != 200 or r["choices"][0]["message"]["content"] != ref["a"]["chat"]:
        fail(f"model :a with lora_path b should run a: {code} {json.dumps(r)[:200]}")
    code, r = chat(base, served)
    if code != 200 or r["choices"][0]["message"]["content"] != ref["base"]["chat"]:
        fail(f"chat on the served name runs the base: {code} {json.dumps(r)[:200]}")
    body = {"model": "x:b", "prompt": PROMPTS[0], "max_tokens": NEW_TOKENS, "temperature": 0, "ignore_eos": True}
    code, r = post(base, "/v1/completions", body)
    if code != 200 or r["choices"][0]["text"] != ref["b"]["texts"][0]:
        fail(f"completions model x:b: {code} {json.dumps(r)[:300]} vs {ref['b']['texts'][0]!r}")

    print("main: unknown adapters get 400 in each API's shape", flush=True)
    code, r = post(base, "/generate", greedy(PROMPTS[0], lora_path="zz"))
    if code != 400 or "not loaded" not in r.get("error", {}).get("message", ""):
        fail(f"/generate unknown adapter: {code} {json.dumps(r)[:200]}")
    code, r = chat(base, served + ":zz")
    if code != 400 or r.get("object") != "error" or "not loaded" not in r.get("message", ""):
        fail(f"chat unknown adapter: {code} {json.dumps(r)[:200]}")
    code, r = post(base, "/v1/completions", {"model": "m", "prompt": "x", "max_tokens": 2, "lora_path": "zz"})
    if code != 400 or r.get("object") != "error":
        fail(f"completions unknown adapter: {code} {json.dumps(r)[:200]}")

    print("main: /v1/models lists the adapters", flush=True)
    models = {m["id"]: m for m in get(base, "/v1/models")["data"]}
    for name in ("a", "b"):
        m = models.get(name)
        if not m or m.get("parent") != served or m.get("root") != f"{adir}/lora-{name}":
            fail(f"/v1/models entry for {name}: {m}")
    if models.get(served, {}).get("parent") is not None:
        fail(f"/v1/models base entry: {models.get(served)}")

    print("main: load, use, unload under traffic, reload the name", flush=True)
    code, r = load(base, "c", f"{adir}/lora-c")
    if code != 200 or r.get("success") is not True or set(r.get("loaded_adapters", {})) != {"a", "b", "c"}:
        fail(f"load c: {code} {r}")
    check_refs(base, ref, "c", "c", "dynamically loaded c vs merged c")
    code, r = load(base, "c", f"{adir}/lora-d")
    if code != 400 or r.get("success") is not False or "already exists" not in (r.get("error_message") or ""):
        fail(f"loading a taken name: {code} {r}")
    code, r = load(base, "bad", f"{adir}/no-such-adapter")
    if code != 400 or r.get("success") is not False or not r.get("error_message"):
        fail(f"loading a missing directory: {code} {r}")
    # A long streamed request on c is in flight (its first token is out) while c is unloaded: the
    # unload waits for it to finish, and the request is not cut short.
    done = {}
    started = threading.Event()

    def long_request():
        body = greedy(PROMPTS[0], lora_path="c", stream=True)
        body["sampling_params"]["max_new_tokens"] = 400
        req = urllib.request.Request(base + "/generate", json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
        done["t0"] = time.monotonic()
        last = None
        with urllib.request.urlopen(req, timeout=120) as r:
            for line in r:
                line = line.decode().strip()
                if line.startswith("data: {"):
                    last = json.loads(line[6:])
                    started.set()
        done["last"] = last
        started.set()

    t = threading.Thread(target=long_request)
    t.start()
    started.wait(60)
    code, r = unload(base, "c")
    unload_t = time.monotonic()
    t.join()
    last = done.get("last") or {}
    meta = last.get("meta_info", {})
    if code != 200 or r.get("success") is not True or "c" in r.get("loaded_adapters", {}):
        fail(f"unload c: {code} {r}")
    if meta.get("completion_tokens") != 400 or (meta.get("finish_reason") or {}).get("type") != "length":
        fail(f"the request in flight during the unload did not finish normally: {json.dumps(last)[:300]}")
    # The request started after t0 and ran e2e_latency seconds: the unload may answer only after.
    elif unload_t < done["t0"] + meta["e2e_latency"]:
        fail("the unload answered before the request using the adapter finished")
    code, r = post(base, "/generate", greedy(PROMPTS[0], lora_path="c"))
    if code != 400 or "not loaded" not in r.get("error", {}).get("message", ""):
        fail(f"a request for an unloaded adapter: {code} {json.dumps(r)[:200]}")
    code, r = unload(base, "c")
    if code != 400 or r.get("success") is not False:
        fail(f"unloading twice: {code} {r}")
    # The name again, other weights: a new identity, so the prompts cached under the old c miss.
    code, r = load(base, "c", f"{adir}/lora-d")
    if code != 200 or r.get("loaded_adapters", {}).get("c") != f"{adir}/lora-d":
        fail(f"reload c from lora-d: {code} {r}")
    r = generate(base, PROMPTS[0], "c")
    if r:
        expect_same("reloaded c (lora-d) prompt 0", r["output_ids"], ref["d"]["ids"][0])
        if r["meta_info"]["cached_tokens"] != 0:
            fail(f"reloaded c reused {r['meta_info']['cached_tokens']} cached tokens of the old adapter")
    check_refs(base, ref, "d", "c", "reloaded c (lora-d) vs merged d")

    print("main: 32 concurrent requests over a, b, c and the base", flush=True)
    names = [("a", "a"), ("b", "b"), ("d", "c"), ("base", None)]
    jobs = [(names[k % 4][0], names[k % 4][1], (k // 4) % len(PROMPTS)) for k in range(32)]
    concurrent(base, ref, jobs, "concurrent")
    check_no_leak(base, "main")

    print("main: clients of an adapter vanish mid-stream; its unload still completes", flush=True)
    code, r = load(base, "e", f"{adir}/lora-a")
    if code != 200:
        fail(f"load e: {code} {r}")
    for _ in range(4):
        body = greedy(PROMPTS[1], lora_path="e", stream=True)
        body["sampling_params"]["max_new_tokens"] = 3000
        req = urllib.request.Request(base + "/generate", json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
        resp = urllib.request.urlopen(req, timeout=60)
        while not resp.readline().startswith(b"data: {"):
            pass
        resp.close()  # the client is gone: the server aborts the request
    t0 = time.monotonic()
    code, r = unload(base, "e")
    if code != 200 or r.get("success") is not True:
        fail(f"unload e after its clients vanished: {code} {r}")
    if time.monotonic() - t0 > 30:
        fail(f"unload e waited {time.monotonic() - t0:.1f} s for aborted requests")
    pool = check_no_leak(base, "main, after disconnects")
    print("main: pool", pool, flush=True)


def pool_server(base, ref, served, adir):
    s = state(base)
    if s.get("lora_pool", {}).get("slots_total") != 2:
        fail(f"--max-loras-per-batch 2: lora_pool {s.get('lora_pool')}")
    if s.get("max_loaded_loras") != 3 or s.get("lora_eviction_policy") != "lru":
        fail(f"server info flags: {s.get('max_loaded_loras')} {s.get('lora_eviction_policy')}")
    code, r = load(base, "c", f"{adir}/lora-c")
    if code != 200:
        fail(f"load c into the 3-adapter cap: {code} {r}")
    code, r = load(base, "d", f"{adir}/lora-d")
    if code != 400 or "Maximum number of loaded LoRA adapters is 3" not in (r.get("error_message") or ""):
        fail(f"a 4th adapter past --max-loaded-loras 3: {code} {r}")
    print("pool: 4 distinct adapters (with the base) through 2 slots", flush=True)
    names = [("a", "a"), ("b", "b"), ("c", "c"), ("base", None)]
    jobs = [(names[k % 4][0], names[k % 4][1], (k // 4) % len(PROMPTS)) for k in range(24)]
    concurrent(base, ref, jobs, "2 slots")
    pool = check_no_leak(base, "pool")
    if not pool.get("evictions", 0) > 0:
        fail(f"4 adapters through 2 slots evicted nothing: {pool}")
    print("pool: a pinned adapter keeps its slot; the others share the last one", flush=True)
    code, r = unload(base, "c")
    code2, r2 = load(base, "c", f"{adir}/lora-c", pinned=True)
    if code != 200 or code2 != 200:
        fail(f"reload c pinned: {code} {r} / {code2} {r2}")
    code, r = unload(base, "b")
    code2, r2 = load(base, "p2", f"{adir}/lora-b", pinned=True)
    if code != 200 or code2 != 400 or "pinned" not in (r2.get("error_message") or ""):
        fail(f"a second pinned adapter with 2 slots: {code} / {code2} {r2}")
    code, r = load(base, "b", f"{adir}/lora-b")
    jobs = [(names[k % 4][0], names[k % 4][1], (k // 4) % len(PROMPTS)) for k in range(16)]
    concurrent(base, ref, jobs, "2 slots, c pinned")
    pool = check_no_leak(base, "pool, pinned")
    print("pool: pool", pool, flush=True)


def main():
    mode = sys.argv[1]
    if mode == "reference":
        reference(sys.argv[2], sys.argv[3])
        return fails
    if mode == "disabled":
        disabled(sys.argv[2])
        return fails
    base, refdir, served, adir = sys.argv[2:6]
    ref = {n: json.load(open(f"{refdir}/{n}.json")) for n in ("base", "a", "b", "c", "d")}
    {"main": main_server, "pool": pool_server}[mode](base, ref, served, adir)
    return fails


if __name__ == "__main__":
    sys.exit(main())
