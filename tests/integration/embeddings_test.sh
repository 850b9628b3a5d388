#!/usr/bin/env bash
# /v1/embeddings and /encode on tiny-qwen3 served with --is-embedding (float32): last-token pooling
# of the final hidden state, L2-normalised, equal to /generate's return_hidden_states for the same
# prompt; `dimensions` keeps the first N components (then normalises); base64 carries the same
# floats; list and token-id inputs; bad input is a 400. /generate's hidden_states in SGLang's layout
# (the prompt's positions as a block, then one per token), each row checked against a request alone. Exit 77 (CTest skip) when the model or
# curl/jq/python3 are missing.
set -u
BIN=$1; M=$2
[ -d "$M" ] || { echo "SKIP: $M absent"; exit 77; }
command -v curl >/dev/null && command -v jq >/dev/null && command -v python3 >/dev/null ||
  { echo "SKIP: needs curl, jq and python3"; exit 77; }
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
BASE=http://127.0.0.1:$port; J='Content-Type: application/json'; fails=0; TMP=$(mktemp -d)
fail() { echo "FAIL: $1"; fails=$((fails+1)); }
"$BIN" --model-path "$M" --max-total-tokens 65536 --port $port --dtype float32 --is-embedding --skip-server-warmup >$TMP/server.log 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; rm -rf $TMP' EXIT
for _ in $(seq 1 240); do curl -sf $BASE/health >/dev/null && break; sleep 0.25; done
curl -sf $BASE/health >/dev/null || { echo "FAIL: server did not start: $(tail -3 $TMP/server.log)"; exit 1; }

curl -s $BASE/get_model_info | jq -e '.is_generation == false' >/dev/null || fail "is_generation should be false"
python3 - "$BASE" <<'PY' || fail "embeddings differ from the pooled hidden state"
import base64, json, math, struct, sys, urllib.request
base = sys.argv[1]
def post(path, body):
    req = urllib.request.Request(base + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=60))
def normalise(v):
    n = math.sqrt(sum(x * x for x in v))
    return [x / n for x in v]
texts = ["def fibonacci(n):", "The capital of France is", "import numpy as np"]
r = post("/v1/embeddings", {"input": texts, "model": "m"})
assert r["object"] == "list" and r["model"] == "m" and [d["index"] for d in r["data"]] == [0, 1, 2], r
assert all(d["object"] == "embedding" for d in r["data"])
tokens = 0
for t, d in zip(texts, r["data"]):
    g = post("/generate", {"text": t, "sampling_params": {"max_new_tokens": 1, "temperature": 0}, "return_hidden_states": True})
    # SGLang's layout: the prompt's block of positions first; its last row chose the first token.
    block = g["meta_info"]["hidden_states"][0]
    assert len(g["meta_info"]["hidden_states"]) == 1 and len(block) == g["meta_info"]["prompt_tokens"] - g["meta_info"]["cached_tokens"], g["meta_info"]
    hidden = block[-1]
    tokens += g["meta_info"]["prompt_tokens"]
    want = normalise(hidden)
    e = d["embedding"]
    assert len(e) == len(hidden) == 128, (len(e), len(hidden))
    assert max(abs(a - b) for a, b in zip(e, want)) < 1e-6, t
    assert abs(sum(x * x for x in e) - 1) < 1e-5
    # Matryoshka: the first 32 components, renormalised.
    d32 = post("/v1/embeddings", {"input": t, "dimensions": 32})["data"][0]["embedding"]
    assert len(d32) == 32 and max(abs(a - b) for a, b in zip(d32, normalise(hidden[:32]))) < 1e-6
    b64 = post("/v1/embeddings", {"input": t, "encoding_format": "base64"})["data"][0]["embedding"]
    raw = base64.b64decode(b64)
    assert len(raw) == 4 * 128 and list(struct.unpack("<128f", raw)) == [float(struct.unpack("<f", struct.pack("<f", x))[0]) for x in e]
    # /encode (SGLang's native route) answers the same vector.
    enc = post("/encode", {"text": t})
    assert max(abs(a - b) for a, b in zip(enc["embedding"], e)) < 1e-6 and enc["meta_info"]["prompt_tokens"] > 0, enc["meta_info"]
assert r["usage"]["prompt_tokens"] == tokens == r["usage"]["total_tokens"], r["usage"]
# Token ids, one list or several.
ids = post("/tokenize", {"prompt": texts[0]})["tokens"]
one = post("/v1/embeddings", {"input": ids})["data"]
many = post("/v1/embeddings", {"input": [ids, ids]})["data"]
assert len(one) == 1 and len(many) == 2 and many[1]["embedding"] == one[0]["embedding"]
assert max(abs(a - b) for a, b in zip(one[0]["embedding"], r["data"][0]["embedding"])) < 1e-6
batch = post("/encode", {"text": texts[:2]})
assert isinstance(batch, list) and len(batch) == 2
# /generate's return_hidden_states in SGLang's layout: a block with every computed prompt position
# first, then one vector per later token (prompt + completion - 1 rows). Row r is the state behind
# token r + 1 of prompt + output: the last row of a request on that prefix alone (causal).
ids = post("/tokenize", {"prompt": "Hidden states, position by position:"})["tokens"]
g = post("/generate", {"input_ids": ids, "return_hidden_states": True,
                       "sampling_params": {"max_new_tokens": 4, "temperature": 0, "ignore_eos": True}})
hs, meta = g["meta_info"]["hidden_states"], g["meta_info"]
assert len(hs) == 4 and len(hs[0]) == len(ids) - meta["cached_tokens"] and all(len(v) == 128 for v in hs[1:]), (len(hs), meta)
rows = hs[0] + hs[1:]
seq = ids + g["output_ids"]
first = len(ids) - len(hs[0])
for r, row in enumerate(rows):
    p = post("/generate", {"input_ids": seq[:first + r + 1], "return_hidden_states": True,
                           "sampling_params": {"max_new_tokens": 1, "temperature": 0}})
    last = p["meta_info"]["hidden_states"][0][-1]
    assert max(abs(a - b) for a, b in zip(row, last)) < 1e-4, ("row", r)
PY
for bad in '{"input":"x","dimensions":0}' '{"input":"x","dimensions":100000}' '{"input":[]}' \
           '{"input":"x","encoding_format":"hex"}' '{"input":[99999999]}' '{"model":"m"}' '{"input":5}'; do
  code=$(curl -s -o $TMP/bad.json -w '%{http_code}' $BASE/v1/embeddings -H "$J" -d "$bad")
  [ "$code" = 400 ] && jq -e '.object == "error" and (.message | length > 0)' $TMP/bad.json >/dev/null ||
    fail "bad embeddings request $bad: $code $(head -c 200 $TMP/bad.json)"
done
code=$(curl -s -o $TMP/bad.json -w '%{http_code}' $BASE/encode -H "$J" -d '{"text":"a","input_ids":[1]}')
[ "$code" = 400 ] || fail "encode with text and input_ids: $code"
echo "embeddings: $fails failures"
[ $fails = 0 ]
