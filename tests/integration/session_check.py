"""Sessions against a running server (issue 28), ported from SGLang's test/srt/test_session_control.py
with token ids instead of re-encoded texts (exact on any model): a chain of turns with offset -1
and replace, a backtrack to the first turn, then the same conversation sent as plain requests must
give the same greedy output ids; branches with offset 0 equal plain requests on the concatenated
ids; errors for a re-opened id, an unknown or cleared rid, appending to a running request, a
closed session; replace aborts the running request it branches from.

usage: session_check.py BASE_URL"""
import json
import sys
import threading
import time
import urllib.error
import urllib.request

BASE = sys.argv[1]
fails = []


def post(path, body):
    req = urllib.request.Request(BASE + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, (json.loads(raw) if raw else None)


def check(cond, what):
    if not cond:
        fails.append(what)
        print("FAIL: " + what, flush=True)


def generate(ids, max_new, session=None, **extra):
    body = {"input_ids": ids, "sampling_params": {"temperature": 0, "max_new_tokens": max_new, "ignore_eos": True}}
    if session:
        body["session_params"] = session
    body.update(extra)
    return post("/generate", body)


CHUNKS = [[785, 6722, 315, 9625, 374], [576, 7770, 315, 279, 3283, 374], [362, 9814, 3840, 911, 429, 3283],
          [3555, 525, 279, 1429, 5411]]
GEN = 12

# -- 1. a chain with offset -1 and replace, then a backtrack --------------------------------------
code, sid = post("/open_session", {"capacity_of_str_len": 1000})
check(code == 200 and isinstance(sid, str) and sid, "open_session answers the id as a JSON string: %s %s" % (code, sid))
code, body = post("/open_session", {"capacity_of_str_len": 1000, "session_id": sid})
check(code == 400 and "same id is still open" in body["error"]["message"], "re-opening an open id: %s %s" % (code, body))

rid, first_rid, from_session = None, None, []
for i, chunk in enumerate(CHUNKS[:-1]):
    code, r = generate(chunk, GEN if i > 0 else 1, {"id": sid, "rid": rid, "offset": -1, "replace": True})
    check(code == 200, "turn %d: %s %s" % (i, code, r))
    if code != 200:
        sys.exit(1)
    rid = r["meta_info"]["id"]
    first_rid = first_rid or rid
    if i > 0:
        from_session.append(r["output_ids"])
    # Each turn prefills only its new tokens: the session's earlier tokens are in the radix cache.
    if i > 1:
        check(r["meta_info"]["cached_tokens"] > 0, "turn %d reuses the cached history: %s" % (i, r["meta_info"]))
code, r = generate(CHUNKS[-1], GEN, {"id": sid, "rid": first_rid, "offset": -1, "replace": True})
check(code == 200, "backtrack to the first turn: %s %s" % (code, r))
from_session.append(r["output_ids"])
code, r = generate(CHUNKS[-1], GEN, {"id": sid, "rid": rid, "offset": -1, "replace": True})
check(code == 400 and r["error"]["message"] == "Invalid request session id",
      "a rid the backtrack cleared: %s %s" % (code, r))
code, r = generate(CHUNKS[-1], GEN, {"id": sid, "rid": "no-such-rid"})
check(code == 400, "an unknown rid: %s" % code)

# The same conversation as plain requests (offset -1: the last output token is dropped).
ids, first_ids, plain = [], None, []
for i, chunk in enumerate(CHUNKS[:-1]):
    ids += chunk
    code, r = generate(ids, GEN if i > 0 else 1)
    if i > 0:
        plain.append(r["output_ids"])
        ids += r["output_ids"][:-1]
    else:
        first_ids = list(ids)
code, r = generate(first_ids + CHUNKS[-1], GEN)
plain.append(r["output_ids"])
check(from_session == plain, "session turns equal the plain requests:\n  %s\n  %s" % (from_session, plain))

code, body = post("/close_session", {"session_id": sid})
check(code == 200 and body is None, "close_session: %s %s" % (code, body))
code, r = generate(CHUNKS[0], 2, {"id": sid})
check(code == 400 and "does not exist" in r["error"]["message"], "a closed session: %s %s" % (code, r))
code, _ = post("/close_session", {"session_id": sid})
check(code == 200, "closing a closed session is a 200 (SGLang)")

# -- 2. branches (offset 0, no replace) -----------------------------------------------------------
code, sid = post("/open_session", {"capacity_of_str_len": 1000, "session_id": "branching"})
check(code == 200 and sid == "branching", "open with a chosen id: %s %s" % (code, sid))
code, root = generate(CHUNKS[0], GEN, {"id": sid, "rid": None})
root_ids = CHUNKS[0] + root["output_ids"]
for b, chunk in enumerate(CHUNKS[1:3]):
    code, r1 = generate(chunk, GEN, {"id": sid, "rid": root["meta_info"]["id"], "offset": 0, "replace": False})
    code, r2 = generate(CHUNKS[3], GEN, {"id": sid, "rid": r1["meta_info"]["id"], "offset": 0, "replace": False})
    _, p1 = generate(root_ids + chunk, GEN)
    _, p2 = generate(root_ids + chunk + p1["output_ids"] + CHUNKS[3], GEN)
    check(r1["output_ids"] == p1["output_ids"] and r2["output_ids"] == p2["output_ids"],
          "branch %d equals the plain requests" % b)
    check(r2["meta_info"]["prompt_tokens"] == len(root_ids + chunk + p1["output_ids"] + CHUNKS[3]),
          "branch %d: the turn's prompt is the whole history" % b)
# drop_previous_output: continue from the root's input only.
code, r = generate(CHUNKS[1], GEN, {"id": sid, "rid": root["meta_info"]["id"], "drop_previous_output": True})
_, p = generate(CHUNKS[0] + CHUNKS[1], GEN)
check(code == 200 and r["output_ids"] == p["output_ids"], "drop_previous_output")

# -- 3. a running turn: appending is refused, replacing aborts it ---------------------------------
long_result = {}


def long_turn():
    long_result["r"] = generate(CHUNKS[0], 4000, {"id": sid, "rid": root["meta_info"]["id"]}, rid="long-turn")


t = threading.Thread(target=long_turn)
t.start()
time.sleep(0.5)
code, r = generate(CHUNKS[1], 4, {"id": sid, "rid": "long-turn"})
check(code == 400 and "hasn't finished" in r["error"]["message"], "appending to a running turn: %s %s" % (code, r))
code, r = generate(CHUNKS[1], 4, {"id": sid, "rid": "long-turn", "replace": True})
check(code == 200, "replacing a running turn: %s %s" % (code, r))
t.join(60)
lcode, lr = long_result.get("r", (None, None))
check(lcode == 200 and lr["meta_info"]["finish_reason"]["type"] == "abort",
      "the replaced running turn was aborted: %s %s" % (lcode, lr and lr["meta_info"]))
if lcode == 200:
    done = lr["output_ids"]
    check(r["meta_info"]["prompt_tokens"] == len(root_ids) + len(CHUNKS[0]) + len(done) + len(CHUNKS[1]),
          "the replacing turn continues the aborted one's output: %s" % r["meta_info"])

# -- 4. bad requests ------------------------------------------------------------------------------
for body, what in [({}, "no capacity"), ({"capacity_of_str_len": "x"}, "bad capacity"),
                   ({"capacity_of_str_len": 10, "streaming": True}, "streaming sessions")]:
    code, r = post("/open_session", body)
    check(code == 400 and "error" in r, "open_session %s: %s %s" % (what, code, r))
code, r = post("/close_session", {})
check(code == 400, "close_session without an id: %s" % code)
code, r = post("/generate", {"text": ["a", "b"], "session_params": {"id": sid}})
check(code == 400 and "session" in r["error"]["message"], "a batch in a session: %s %s" % (code, r))
code, r = post("/generate", {"text": "a", "session_params": {"id": sid, "offset": "x"}})
check(code == 400, "a bad offset: %s" % code)
code, r = post("/generate", {"text": "a", "session_params": {"rid": "x"}, "sampling_params": {"max_new_tokens": 2}})
check(code == 200, "session_params without an id is an ordinary request (SGLang): %s" % code)

print("PASS" if not fails else "%d failure(s)" % len(fails))
sys.exit(1 if fails else 0)
