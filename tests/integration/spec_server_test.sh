#!/usr/bin/env bash
# sglcpp-server with EAGLE3 (tiny-qwen3 + its trained draft head) against the same server without:
# greedy outputs identical (single, streamed, concurrent), and the accept length reported the same
# way in /get_server_info (avg_spec_accept_length) and /metrics (sglang:spec_accept_length), above 1.
# Exit 77 (CTest skip) when the models or curl/jq are missing.
set -u
BIN=$1; MODELS=$2; M=$MODELS/tiny-qwen3; D=$MODELS/tiny-qwen3-eagle3
[ -d "$M" ] && [ -d "$D" ] || { echo "SKIP: $M or $D absent"; exit 77; }
command -v curl >/dev/null && command -v jq >/dev/null || { echo "SKIP: needs curl and jq"; exit 77; }
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
TMP=$(mktemp -d); fails=0; PIDS=""
trap 'for p in $PIDS; do kill $p 2>/dev/null; done; rm -rf $TMP' EXIT
fail() { echo "FAIL: $1"; fails=$((fails+1)); }
J='Content-Type: application/json'
start() {  # start <name> <port> [flags...]
  local name=$1 port=$2; shift 2
  "$BIN" --model-path "$M" --max-total-tokens 65536 --port "$port" --skip-server-warmup --enable-metrics "$@" >"$TMP/$name.log" 2>&1 &
  PIDS="$PIDS $!"
}
wait_health() { for _ in $(seq 1 240); do curl -sf "$1/health" >/dev/null && return 0; sleep 0.25; done; return 1; }

P0=$(free_port); P1=$(free_port); PLAIN=http://127.0.0.1:$P0; SPEC=http://127.0.0.1:$P1
start plain $P0
start spec $P1 --speculative-algorithm EAGLE3 --speculative-draft-model-path "$D" \
  --speculative-num-steps 3 --speculative-eagle-topk 1 --speculative-num-draft-tokens 4
wait_health $PLAIN || { fail "plain server did not start: $(tail -3 $TMP/plain.log)"; exit 1; }
wait_health $SPEC || { fail "EAGLE3 server did not start: $(tail -3 $TMP/spec.log)"; exit 1; }

# Before any verify round the accept length is null in server_info and 0 in /metrics.
curl -sf $SPEC/get_server_info | jq -e '.internal_states[0] | has("avg_spec_accept_length")' >/dev/null ||
  fail "server_info has no avg_spec_accept_length"

prompts=("def main():" "The capital of France is" "import numpy as np" "Once upon a time" "for i in range(10):"
  "class Node:" "# Sort a list" "Hello")
for i in "${!prompts[@]}"; do
  body=$(jq -cn --arg t "${prompts[$i]}" '{text:$t,sampling_params:{max_new_tokens:48,temperature:0}}')
  a=$(curl -sf -m 60 $PLAIN/generate -H "$J" -d "$body" | jq -r .text)
  b=$(curl -sf -m 60 $SPEC/generate -H "$J" -d "$body" | jq -r .text)
  [ -n "$a" ] && [ "$a" = "$b" ] || fail "prompt $i: EAGLE3 '$b' != plain '$a'"
done

# Logprobs of the emitted tokens (accepted drafts and bonus) are what plain decoding reports.
body='{"text":"def main():","return_logprob":true,"top_logprobs_num":2,"sampling_params":{"max_new_tokens":24,"temperature":0,"ignore_eos":true}}'
curl -sf -m 60 $PLAIN/generate -H "$J" -d "$body" >$TMP/lp_plain.json
curl -sf -m 60 $SPEC/generate -H "$J" -d "$body" >$TMP/lp_spec.json
python3 - $TMP/lp_plain.json $TMP/lp_spec.json <<'PY' || fail "EAGLE3 logprobs differ from plain decoding"
import json, sys
a, b = (json.load(open(f))["meta_info"] for f in sys.argv[1:3])
la, lb = a["output_token_logprobs"], b["output_token_logprobs"]
assert len(la) == len(lb) == 24, (len(la), len(lb))
for x, y in zip(la, lb):
    assert x[1] == y[1] and abs(x[0] - y[0]) < 1e-4, (x, y)
for x, y in zip(a["output_top_logprobs"], b["output_top_logprobs"]):
    assert [t[1] for t in x] == [t[1] for t in y] and all(abs(s[0] - t[0]) < 1e-4 for s, t in zip(x, y)), (x, y)
PY

# Streamed: the last cumulative event equals the plain non-streamed text; events never shrink.
body='{"text":"def main():","stream":true,"sampling_params":{"max_new_tokens":40,"temperature":0,"ignore_eos":true}}'
ref=$(curl -sf -m 60 $PLAIN/generate -H "$J" -d "${body/\"stream\":true,/}" | jq -r .text)
s=$(curl -sN -m 60 $SPEC/generate -H "$J" -d "$body")
[ "$(echo "$s" | tail -1)" = "data: [DONE]" ] || fail "EAGLE3 stream does not end with [DONE]"
last=$(echo "$s" | grep '^data: {' | tail -1 | sed 's/^data: //')
[ "$(echo "$last" | jq -r .text)" = "$ref" ] || fail "EAGLE3 streamed text != plain"
[ "$(echo "$last" | jq -r .meta_info.completion_tokens)" = 40 ] || fail "EAGLE3 stream: completion_tokens != 40"
counts=$(echo "$s" | grep '^data: {' | sed 's/^data: //' | jq -r '.output_ids|length' | tr '\n' ' ')
python3 -c "import sys; c=list(map(int,sys.argv[1].split())); sys.exit(0 if c==sorted(c) and c[-1]==40 else 1)" "$counts" ||
  fail "EAGLE3 stream ids per event not monotone up to 40: $counts"

# Eight concurrent requests batch their verify rounds; each equals its plain answer.
CURLS=""
for i in "${!prompts[@]}"; do
  body=$(jq -cn --arg t "${prompts[$i]}" '{text:$t,sampling_params:{max_new_tokens:48,temperature:0}}')
  (curl -sf -m 60 $SPEC/generate -H "$J" -d "$body" | jq -r .text >$TMP/c$i.txt) &
  CURLS="$CURLS $!"
done
wait $CURLS  # not a bare wait: that would also wait for the servers
for i in "${!prompts[@]}"; do
  body=$(jq -cn --arg t "${prompts[$i]}" '{text:$t,sampling_params:{max_new_tokens:48,temperature:0}}')
  a=$(curl -sf -m 60 $PLAIN/generate -H "$J" -d "$body" | jq -r .text)
  [ "$(cat $TMP/c$i.txt)" = "$a" ] || fail "concurrent prompt $i: EAGLE3 '$(cat $TMP/c$i.txt)' != plain '$a'"
done

# The accept length: above 1 (the trained head is accepted), the same in both reports.
info=$(curl -sf $SPEC/get_server_info | jq -r '.internal_states[0].avg_spec_accept_length')
metric=$(curl -sf $SPEC/metrics | grep '^sglang:spec_accept_length{' | awk '{print $2}')
python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); sys.exit(0 if a>1.5 and abs(a-b)<1e-6*max(1,a) else 1)" \
  "$info" "${metric:-nan}" || fail "accept length: server_info $info, metrics ${metric:-absent}"
plain_metric=$(curl -sf $PLAIN/metrics | grep '^sglang:spec_accept_length{' | awk '{print $2}')
[ "$plain_metric" = 0.0 ] || fail "plain server's sglang:spec_accept_length: '${plain_metric}' (want 0.0)"
echo "accept length $info"

[ $fails -eq 0 ] && echo "PASS: spec server" || echo "$fails failure(s)"
exit $((fails > 0))
