#!/usr/bin/env bash
# POST /v1/score (SGLang's decoder-only scoring) on tiny-qwen3 in float32: the label
# probabilities after query + item equal the HF transformers reference's at that position
# (golden top logits and logsumexp), apply_softmax renormalises over the labels, item_first
# reorders, text and token inputs agree with /generate's output_token_ids_logprobs, and bad input
# is a 400 in the OpenAI shape. Exit 77 (CTest skip) when the model, golden or curl/jq are missing.
set -u
BIN=$1; SHARED=$2; M=$SHARED/models/tiny-qwen3; G=$SHARED/golden/tiny-qwen3.golden.json
[ -d "$M" ] && [ -f "$G" ] || { echo "SKIP: $M or $G absent"; exit 77; }
command -v curl >/dev/null && command -v jq >/dev/null && command -v python3 >/dev/null ||
  { echo "SKIP: needs curl, jq and python3"; exit 77; }
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
BASE=http://127.0.0.1:$port; J='Content-Type: application/json'; fails=0; TMP=$(mktemp -d)
fail() { echo "FAIL: $1"; fails=$((fails+1)); }
"$BIN" --model-path "$M" --max-total-tokens 65536 --port $port --dtype float32 --skip-server-warmup >$TMP/server.log 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; rm -rf $TMP' EXIT
for _ in $(seq 1 240); do curl -sf $BASE/health >/dev/null && break; sleep 0.25; done
curl -sf $BASE/health >/dev/null || { echo "FAIL: server did not start: $(tail -3 $TMP/server.log)"; exit 1; }

python3 - "$G" "$BASE" <<'PY' || fail "scores differ from the reference"
import json, math, sys, urllib.request
golden, base = json.load(open(sys.argv[1])), sys.argv[2]
def post(path, body):
    req = urllib.request.Request(base + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=60))
checked = 0
for c in golden["cases"]:
    ids = c["input_ids"]
    if c["kind"] != "raw" or len(ids) < 4:
        continue
    labels = c["top_ids"][-1][:3] + [c["greedy_ids"][5]]
    want = {t: math.exp(l - c["logsumexp"][-1]) for t, l in zip(c["top_ids"][-1], c["top_logits"][-1])}
    r = post("/v1/score", {"query": ids[:-3], "items": [ids[-3:]], "label_token_ids": labels})
    assert r["object"] == "scoring" and len(r["scores"]) == 1 and len(r["scores"][0]) == 4, r
    for t, p in zip(labels[:3], r["scores"][0][:3]):
        assert abs(p - want[t]) <= 1e-3 * want[t] + 1e-7, (c["text"], t, p, want[t])
    assert r["usage"]["prompt_tokens"] == len(ids) and r["usage"]["total_tokens"] == len(ids), r["usage"]
    s = post("/v1/score", {"query": ids[:-3], "items": [ids[-3:]], "label_token_ids": labels, "apply_softmax": True})["scores"][0]
    assert abs(sum(s) - 1) < 1e-6, s
    assert abs(s[0] / s[1] - r["scores"][0][0] / r["scores"][0][1]) < 1e-4 * s[0] / s[1], (s, r)
    f = post("/v1/score", {"query": ids[-3:], "items": [ids[:-3]], "label_token_ids": labels, "item_first": True})
    assert f["scores"] == r["scores"], (f, r)
    checked += 1
assert checked >= 3, checked
# Text: several items in one request, each as /generate reports the same prompt's label logprobs.
q, items, labels = "def fibonacci(n):", ["\n    if", "\n    return", " pass"], [198, 262, 220]
r = post("/v1/score", {"query": q, "items": items, "label_token_ids": labels})
assert len(r["scores"]) == 3, r
for item, sc in zip(items, r["scores"]):
    g = post("/generate", {"text": q + item, "sampling_params": {"max_new_tokens": 1, "temperature": 0},
                           "return_logprob": True, "token_ids_logprob": labels})
    lp = g["meta_info"]["output_token_ids_logprobs"][0]
    assert [t[1] for t in lp] == labels, lp
    for (l, _, _), p in zip(lp, sc):
        assert abs(math.exp(l) - p) <= 1e-6 + 1e-5 * p, (item, l, p)
PY
for bad in '{"query":"a","items":["b"],"label_token_ids":[99999999]}' \
           '{"query":"a","items":[[1,2]],"label_token_ids":[5]}' \
           '{"query":"a","label_token_ids":[5]}' \
           '{"query":"a","items":["b"]}' \
           '{"query":"a","items":[7],"label_token_ids":[5]}'; do
  code=$(curl -s -o $TMP/bad.json -w '%{http_code}' $BASE/v1/score -H "$J" -d "$bad")
  [ "$code" = 400 ] && jq -e '.object == "error" and (.message | length > 0)' $TMP/bad.json >/dev/null ||
    fail "bad score request $bad: $code $(head -c 200 $TMP/bad.json)"
done
grep -q "out of vocabulary" <(curl -s $BASE/v1/score -H "$J" -d '{"query":"a","items":["b"],"label_token_ids":[99999999]}') ||
  fail "out-of-vocabulary label message"
r=$(curl -s $BASE/v1/score -H "$J" -d '{"query":"a","items":[],"label_token_ids":[5]}')
echo "$r" | jq -e '.scores == [] and .object == "scoring"' >/dev/null || fail "no items: $r"
echo "score: $fails failures"
[ $fails = 0 ]
