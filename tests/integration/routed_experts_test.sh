#!/usr/bin/env bash
# return_routed_experts (SGLang-JAX's, with SGLang's routed_experts_start_len) on the real server:
#  - tiny-qwen3-moe with --enable-return-routed-experts: meta_info.routed_experts is the base64 of
#    int32 ids shaped [prompt + output − 1][layers][top-k], each a distinct expert in [0, E) per
#    token and layer; a second identical request, whose prompt comes from the radix cache, reports
#    the same ids (kept per KV slot); routed_experts_start_len drops the first rows; streaming
#    carries it in the final event; /v1/completions in choices[i].routed_experts; not requested,
#    no key; a batch asks per prompt.
#  - a request asking on a server without the flag: 400 naming the flag; the flag on a dense model
#    stops the server with a message that it needs a MoE model.
# Exit 77 (CTest skip) when the models or curl/jq/python3 are missing.
set -u
BIN=$1; SHARED=$2
. "$(dirname "$0")/server_test_lib.sh"
shared_script_setup "$SHARED/models/tiny-qwen3-moe" "$SHARED/models/tiny-qwen3"
MOE=$SHARED/models/tiny-qwen3-moe; DENSE=$SHARED/models/tiny-qwen3
L=4; K=2; E=8  # tiny-qwen3-moe: layers, experts per token, experts
# Checks one base64 value (file $1) against rows $2 and prints the ids as JSON.
decode() {
  $PY - "$1" "$2" "$L" "$K" "$E" <<'PY'
import base64, json, struct, sys
b64, rows, L, K, E = open(sys.argv[1]).read().strip().strip('"'), *map(int, sys.argv[2:])
raw = base64.b64decode(b64)
assert len(raw) == rows * L * K * 4, f"{len(raw)} bytes, want {rows}x{L}x{K} int32"
ids = list(struct.unpack(f"<{rows * L * K}i", raw))
for t in range(rows):
    for l in range(L):
        e = ids[(t * L + l) * K:(t * L + l + 1) * K]
        assert all(0 <= x < E for x in e) and len(set(e)) == K, f"token {t} layer {l}: {e}"
print(json.dumps(ids, separators=(",", ":")))
PY
}
body() { jq -nc --argjson extra "${1:-{\}}" '{input_ids: [9707, 11, 1879, 0, 358, 1079, 264], sampling_params: {temperature: 0, max_new_tokens: 6, ignore_eos: true}, return_routed_experts: true} + $extra'; }

echo "[${SECONDS}s] tiny-qwen3-moe --enable-return-routed-experts"
start "$MOE" --enable-return-routed-experts || exit 1
curl -s "$BASE/generate" -H "$J" -d "$(body)" >$TMP/a.json
jq -r .meta_info.routed_experts $TMP/a.json >$TMP/a.b64
a=$(decode $TMP/a.b64 $((7 + 6 - 1))) || fail "first request: $(head -c 300 $TMP/a.json)"
[ "$(jq -r .meta_info.cached_tokens $TMP/a.json)" = 0 ] || fail "first request was cached"
curl -s "$BASE/generate" -H "$J" -d "$(body)" >$TMP/b.json
jq -r .meta_info.routed_experts $TMP/b.json >$TMP/b.b64
b=$(decode $TMP/b.b64 12) || fail "second request: $(head -c 300 $TMP/b.json)"
[ "$(jq -r .meta_info.cached_tokens $TMP/b.json)" -gt 0 ] || fail "second request did not hit the radix cache"
[ "$a" = "$b" ] || fail "ids differ when the prompt's KV comes from the cache"
curl -s "$BASE/generate" -H "$J" -d "$(body '{"routed_experts_start_len": 3}')" | jq -r .meta_info.routed_experts >$TMP/c.b64
c=$(decode $TMP/c.b64 9) || fail "routed_experts_start_len 3"
[ "$c" = "$(echo "$a" | jq -c ".[$((3 * L * K)):]")" ] || fail "routed_experts_start_len 3: not the tail of the full rows"
curl -sN "$BASE/generate" -H "$J" -d "$(body '{"stream": true}')" | grep '^data: {' | tail -1 | sed 's/^data: //' \
  | jq -r .meta_info.routed_experts >$TMP/s.b64
s=$(decode $TMP/s.b64 12) || fail "streamed: final event"
[ "$s" = "$a" ] || fail "streamed ids differ"
r=$(curl -s "$BASE/generate" -H "$J" -d '{"input_ids": [1, 2, 3], "sampling_params": {"max_new_tokens": 2}}' | jq -c '.meta_info | has("routed_experts")')
[ "$r" = false ] || fail "routed_experts present when not asked for"
r=$(curl -s "$BASE/generate" -H "$J" -d '{"input_ids": [[1, 2, 3], [4, 5, 6]], "sampling_params": {"max_new_tokens": 2, "ignore_eos": true}, "return_routed_experts": [false, true]}' \
  | jq -c '[.[] | .meta_info.routed_experts | type]')
[ "$r" = '["null","string"]' ] || fail "per-prompt list: $r"
code=$(curl -s -o $TMP/e.json -w '%{http_code}' "$BASE/generate" -H "$J" -d "$(body '{"routed_experts_start_len": 99}')")
[ "$code" = 400 ] && grep -q routed_experts_start_len $TMP/e.json || fail "start_len past the prompt: $code $(cat $TMP/e.json)"
curl -s "$BASE/v1/completions" -H "$J" -d '{"model": "m", "prompt": [9707, 11, 1879, 0, 358, 1079, 264], "max_tokens": 6, "temperature": 0, "ignore_eos": true, "return_routed_experts": true}' \
  | jq -r '.choices[0].routed_experts' >$TMP/o.b64
o=$(decode $TMP/o.b64 12) || fail "/v1/completions choices[0].routed_experts"
[ "$o" = "$a" ] || fail "/v1/completions ids differ from /generate's"
echo "  ok: $(echo "$a" | jq -c '.[0:8]')..."
stop

echo "[${SECONDS}s] without the flag, and on a dense model"
start "$MOE" || exit 1
code=$(curl -s -o $TMP/e.json -w '%{http_code}' "$BASE/generate" -H "$J" -d "$(body)")
[ "$code" = 400 ] && grep -q -- "--enable-return-routed-experts" $TMP/e.json || fail "asked without the flag: $code $(cat $TMP/e.json)"
stop
port=$(free_port)
"$BIN" --model-path "$DENSE" --port $port --enable-return-routed-experts --skip-server-warmup >$TMP/dense.log 2>&1 &
DP=$!
for _ in $(seq 1 120); do kill -0 $DP 2>/dev/null || break; sleep 0.25; done
if kill -0 $DP 2>/dev/null; then kill $DP; fail "a dense model with --enable-return-routed-experts started"; fi
wait $DP; rc=$?
[ $rc != 0 ] && grep -q "requires a MoE model" $TMP/dense.log || fail "dense model: exit $rc, log $(tail -3 $TMP/dense.log)"
[ $fails = 0 ] && echo "PASS (${SECONDS}s)" || { tail -20 $TMP/server.log; exit 1; }
