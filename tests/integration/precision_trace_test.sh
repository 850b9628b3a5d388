#!/usr/bin/env bash
# SGLang-JAX's precision tracer on tiny-qwen3 (issue 28): --enable-precision-tracer, /start_trace
# with req_num stops by itself after that many requests and writes one JSON line each (a prefill
# group with every layer's input-layernorm, attention and MLP statistics plus the final norm's, a
# decode group per later token); the final norm's statistics equal those of the hidden states
# /generate returns (return_hidden_states) for the same tokens; /stop_trace writes running
# requests as "active"; SGLang-JAX's JSON and errors. Exit 77 without the model, curl, jq, python3.
set -u
BIN=$1; MODEL=$2
. "$(dirname "$0")/server_test_lib.sh"
serve_whole_script --enable-precision-tracer --disable-radix-cache
LAYERS=$(jq .num_hidden_layers "$MODEL/config.json")
post() { curl -s -o $TMP/body -w '%{http_code}' -H "$J" -X POST "$A$1" ${2:+-d "$2"}; }
gen() {  # gen TEXT N [extra json]
  curl -s -H "$J" -d "{\"text\":\"$1\",\"sampling_params\":{\"max_new_tokens\":$2,\"temperature\":0,\"ignore_eos\":true}${3:-}}" $A/generate
}

grep -q "chunked prefill is disabled" $TMP/log || fail "no word that chunked prefill is off"
c=$(post /stop_trace); [ "$c" = 400 ] && jq -e '.status == "error"' $TMP/body >/dev/null || fail "stop with none: $c"
c=$(post /start_trace '{"save_tensor": true}'); [ "$c" = 400 ] || fail "save_tensor: $c"
c=$(post /start_trace '{"req_num": 0}'); [ "$c" = 400 ] || fail "req_num 0: $c"

F=$TMP/traces/run.jsonl
c=$(post /start_trace "{\"req_num\": 2, \"output_file\": \"$F\"}")
[ "$c" = 200 ] && jq -e ".status == \"ok\" and .message == \"Precision tracing started successfully.\" and .req_num == 2
  and .output_file == \"$F\" and .save_tensor == false" $TMP/body >/dev/null || fail "start: $c $(cat $TMP/body)"
c=$(post /start_trace '{}'); [ "$c" = 400 ] || fail "a second start: $c"
curl -s $A/trace_status | jq -e '.status == "ok" and .trace_active and .max_requests == 2' >/dev/null || fail "status while tracing"
gen "The capital of France is" 4 ',"return_hidden_states":true' >$TMP/r1.json
gen "One two three" 3 >/dev/null
gen "Not traced" 2 >/dev/null
curl -s $A/trace_status | jq -e '.trace_active == false and .request_counter == 2 and .completed_requests == 2' >/dev/null \
  || fail "status after req_num requests: $(curl -s $A/trace_status)"
$PY - "$F" "$LAYERS" $TMP/r1.json <<'PYEOF' || fail "trace records"
import json, sys, math
lines = [json.loads(l) for l in open(sys.argv[1])]
L = int(sys.argv[2])
r1 = json.load(open(sys.argv[3]))
ok = True
def want(c, what):
    global ok
    if not c:
        ok = False
        print("  does not hold: " + what)
want(len(lines) == 2, "two lines for req_num 2, got %d" % len(lines))
first = next(l for l in lines if l["request_id"] == r1["meta_info"]["id"])
for l in lines:
    want(l["status"] == "completed" and l["duration"] >= 0 and len(l["content_hash"]) == 16, "record fields")
    pre, dec = l["precision_records"]["prefill"], l["precision_records"]["decode"]
    want(len(pre) == 1 and pre[0]["token_idx"] == 0 and len(pre[0]["records"]) == 3 * L + 1, "one prefill group, 3L+1 records")
    stages = [s["stage"] for s in pre[0]["records"]]
    want(stages[:3] == ["INPUT_LAYERNORM_layer_id_0", "SELF_ATTN_layer_id_0", "MLP_layer_id_0"] and stages[-1] == "TRANSFORMER", "stages")
    for g in dec:
        want(len(g["records"]) == 3 * L + 1 and all(s["shape"][0] == 1 for s in g["records"]), "decode records")
    want([g["token_idx"] for g in dec] == [dec[0]["token_idx"] + i for i in range(len(dec))], "decode token_idx consecutive")
    for g in pre + dec:
        for s in g["records"]:
            want(s["min"] <= s["mean"] <= s["max"] and s["std"] >= 0 and not s["has_nan"], "stat bounds %s" % s)
want(len(first["precision_records"]["decode"]) == 3, "4 new tokens: 3 decode forwards")
# The final norm of each decode forward's token is the hidden state /generate returns for the token
# that forward produced (meta_info.hidden_states[k], k >= 1).
hs = r1["meta_info"]["hidden_states"]
for k, g in enumerate(first["precision_records"]["decode"]):
    t = g["records"][-1]
    v = hs[k + 1]
    mean = sum(v) / len(v)
    std = math.sqrt(sum((x - mean) ** 2 for x in v) / len(v))
    want(abs(t["mean"] - mean) < 1e-4 and abs(t["std"] - std) < 1e-4 and abs(t["max"] - max(v)) < 1e-4
         and abs(t["min"] - min(v)) < 1e-4, "TRANSFORMER of decode %d equals hidden_states[%d]" % (k, k + 1))
sys.exit(0 if ok else 1)
PYEOF

# /stop_trace with a request running: written as "active".
c=$(post /start_trace "{\"output_file\": \"$TMP/traces/stop.jsonl\"}"); [ "$c" = 200 ] || fail "start 2: $c"
gen "Long one" 3000 >/dev/null &
G=$!
sleep 0.5
c=$(post /stop_trace)
[ "$c" = 200 ] && jq -e ".status == \"ok\" and .output_file == \"$TMP/traces/stop.jsonl\"" $TMP/body >/dev/null || fail "stop: $c"
wait $G
jq -s -e 'length == 1 and .[0].status == "active" and (.[0].precision_records.decode | length) > 0' \
  $TMP/traces/stop.jsonl >/dev/null || fail "a running request at /stop_trace: $(head -c 300 $TMP/traces/stop.jsonl)"
kill -0 $SRV || fail "the server died"
[ $fails -eq 0 ] && echo PASS || { tail -5 $TMP/log; echo "$fails failure(s)"; exit 1; }
