#!/usr/bin/env bash
# Launch flags of issue 27 on the real sglcpp-server (curl + jq):
#  - --enable-metrics: /metrics is 404 without it and uses --bucket-* bounds with it;
#  - --allow-auto-truncate: an over-long prompt is answered (its first tokens kept), not a 400;
#  - --skip-tokenizer-init: input_ids in, output_ids out, no "text" key (SGLang); text prompts are a 400;
#  - --log-level-http warning hides the access lines;
#  - an ignored flag warns naming it; a refused one stops the start naming flag and capability.
# Exit 77 (CTest skip) when the model or curl/jq/python3 is missing.
set -u
BIN=$1; MODEL=$2
[ -d "$MODEL" ] || { echo "SKIP: $MODEL absent"; exit 77; }
for t in curl jq python3; do command -v $t >/dev/null || { echo "SKIP: needs $t"; exit 77; }; done
TMP=$(mktemp -d); fails=0; SRV=
trap 'kill $SRV 2>/dev/null; rm -rf $TMP' EXIT
fail() { echo "FAIL: $1"; fails=$((fails+1)); }
J='Content-Type: application/json'
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
start() {  # start NAME FLAGS...: serves on $A, log in $TMP/NAME.log
  local name=$1; shift
  PORT=$(free_port); A=http://127.0.0.1:$PORT
  "$BIN" --model-path "$MODEL" --max-total-tokens 65536 --port $PORT --skip-server-warmup "$@" >$TMP/$name.log 2>&1 &
  SRV=$!
  for _ in $(seq 1 240); do curl -sf $A/health >/dev/null && return 0; sleep 0.5; done
  cat $TMP/$name.log; fail "$name: server not healthy"; return 1
}
stop() { kill $SRV 2>/dev/null; wait $SRV 2>/dev/null; SRV=; }

# Defaults: no /metrics; over-long prompts refused.
start plain --context-length 64 --precompile-token-paddings 1024 2048 --log-level-http warning || exit 1
code=$(curl -s -o /dev/null -w '%{http_code}' $A/metrics)
[ "$code" = 404 ] || fail "/metrics without --enable-metrics: $code, want 404"
long=$(python3 -c 'print(" ".join(["word"] * 200))')
code=$(curl -s -o $TMP/r.json -w '%{http_code}' $A/generate -H "$J" \
  -d "$(jq -n --arg t "$long" '{text:$t, sampling_params:{max_new_tokens:4, temperature:0}}')")
[ "$code" = 400 ] || fail "over-long prompt without --allow-auto-truncate: $code, want 400"
grep -q -- "--precompile-token-paddings has no effect on this backend" $TMP/plain.log ||
  fail "no warning naming --precompile-token-paddings"
grep -q "POST /generate" $TMP/plain.log && fail "--log-level-http warning still logs access lines"
stop

# --enable-metrics with custom buckets, --allow-auto-truncate.
start on --context-length 64 --enable-metrics --bucket-e2e-request-latency 0.5 30 --allow-auto-truncate || exit 1
code=$(curl -s -o $TMP/r.json -w '%{http_code}' $A/generate -H "$J" \
  -d "$(jq -n --arg t "$long" '{text:$t, sampling_params:{max_new_tokens:4, temperature:0}}')")
[ "$code" = 200 ] || fail "over-long prompt with --allow-auto-truncate: $code $(cat $TMP/r.json)"
p=$(jq '.meta_info.prompt_tokens' $TMP/r.json)
[ "${p:-999}" -lt 64 ] 2>/dev/null || fail "truncated prompt has $p tokens, want < 64"
curl -sf $A/metrics > $TMP/m.txt || fail "/metrics with --enable-metrics"
grep -q 'sglang:e2e_request_latency_seconds_bucket{engine_type="unified",le="30.0",' $TMP/m.txt ||
  fail "--bucket-e2e-request-latency not used"
grep -q 'POST /generate' $TMP/on.log || fail "access lines missing at the default --log-level-http"
stop

# --skip-tokenizer-init: ids in, ids out.
start ids --skip-tokenizer-init || exit 1
code=$(curl -s -o $TMP/r.json -w '%{http_code}' $A/generate -H "$J" -d '{"text":"hi","sampling_params":{"max_new_tokens":2}}')
[ "$code" = 400 ] || fail "text with --skip-tokenizer-init: $code, want 400"
curl -sf $A/generate -H "$J" -d '{"input_ids":[1,2,3],"sampling_params":{"max_new_tokens":3,"temperature":0,"ignore_eos":true}}' > $TMP/r.json ||
  fail "input_ids with --skip-tokenizer-init"
[ "$(jq '.output_ids | length' $TMP/r.json)" = 3 ] || fail "output_ids: $(cat $TMP/r.json)"
[ "$(jq 'has("text")' $TMP/r.json)" = false ] || fail "a text key with --skip-tokenizer-init: $(cat $TMP/r.json)"
# Streamed too: every event has output_ids and no text.
curl -sN $A/generate -H "$J" -d '{"input_ids":[1,2,3],"stream":true,"sampling_params":{"max_new_tokens":3,"temperature":0,"ignore_eos":true}}' \
  | grep '^data: {' | sed 's/^data: //' > $TMP/events.jsonl
[ -s $TMP/events.jsonl ] && [ "$(jq -s 'map(has("text")) | any' $TMP/events.jsonl)" = false ] &&
  [ "$(jq -s 'last | .output_ids | length' $TMP/events.jsonl)" -ge 1 ] || fail "streamed ids-only events: $(head -c 300 $TMP/events.jsonl)"
stop

# A refused flag stops the start, naming the flag and the capability.
"$BIN" --model-path "$MODEL" --max-total-tokens 65536 --port $(free_port) --multimodal >$TMP/refused.log 2>&1
rc=$?
[ $rc -ne 0 ] || fail "--multimodal started"
grep -q -- "--multimodal True: sglcpp has no multimodal" $TMP/refused.log || fail "refusal: $(cat $TMP/refused.log)"

[ $fails -eq 0 ] && echo "launch flags: all checks passed"
exit $fails
