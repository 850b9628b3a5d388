#!/usr/bin/env bash
# Behaviours SGLang's own server tests expect (issue 28): a chat request without max_tokens on a
# server whose KV pool is smaller than the context is served (max_new_tokens clipped to the pool),
# and top_logprobs under a grammar come from the masked distribution (SGLang's `regex: "( Yes| No)"`
# case: the alternatives are " Yes" and " No"). Exit 77 (CTest skip) when the model or curl/jq are
# missing.
set -u
BIN=$1; M=$2
[ -d "$M" ] || { echo "SKIP: $M absent"; exit 77; }
command -v curl >/dev/null && command -v jq >/dev/null || { echo "SKIP: needs curl and jq"; exit 77; }
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
BASE=http://127.0.0.1:$port; J='Content-Type: application/json'; fails=0; TMP=$(mktemp -d)
fail() { echo "FAIL: $1"; fails=$((fails+1)); }
"$BIN" --model-path "$M" --port $port --max-total-tokens 256 --skip-server-warmup >$TMP/server.log 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; rm -rf $TMP' EXIT
for _ in $(seq 1 240); do curl -sf $BASE/health >/dev/null && break; sleep 0.25; done
curl -sf $BASE/health >/dev/null || { echo "FAIL: server did not start: $(tail -3 $TMP/server.log)"; exit 1; }

# No max_tokens: "the rest of the context" (40k tokens) clipped to the 256-token pool.
r=$(curl -s -m 120 $BASE/v1/chat/completions -H "$J" \
  -d '{"model":"m","messages":[{"role":"user","content":"Count to a thousand"}],"temperature":0,"ignore_eos":true}')
echo "$r" | jq -e '.choices[0].finish_reason == "length" and .usage.completion_tokens > 100 and
  (.usage.prompt_tokens + .usage.completion_tokens) <= 256' >/dev/null ||
  fail "chat without max_tokens on a small pool: $(echo "$r" | head -c 300)"
info=$(curl -s $BASE/get_server_info)
echo "$info" | jq -e '.max_req_input_len == 250' >/dev/null || fail "max_req_input_len: $(echo "$info" | jq .max_req_input_len)"
# A prompt over max_req_input_len: SGLang's 400.
long=$(python3 -c 'print(" ".join(["word"] * 400))')
code=$(curl -s -o $TMP/long.json -w '%{http_code}' $BASE/generate -H "$J" \
  -d "$(jq -cn --arg t "$long" '{text:$t,sampling_params:{max_new_tokens:1}}')")
[ "$code" = 400 ] && grep -q "exceeds the maximum allowed length" $TMP/long.json ||
  fail "over-long prompt: $code $(head -c 200 $TMP/long.json)"

# top_logprobs under a grammar: only what the grammar allows at each step.
r=$(curl -s -m 60 $BASE/generate -H "$J" -d '{"text":"Is the sky blue? Answer:","sampling_params":{"max_new_tokens":4,"temperature":0,"regex":"( Yes| No)"},"return_logprob":true,"top_logprobs_num":5,"return_text_in_logprobs":true}')
echo "$r" | jq -e '.text == " Yes" or .text == " No"' >/dev/null || fail "regex output: $(echo "$r" | head -c 300)"
first=$(echo "$r" | jq -c '[.meta_info.output_top_logprobs[0][] | .[2]]')
echo "$first" | jq -e 'index(" Yes") != null and index(" No") != null' >/dev/null ||
  fail "top logprobs under the grammar lack the allowed alternatives: $first"
echo "$r" | jq -e '[.meta_info.output_top_logprobs[0][] | .[0]] | all(. <= 0) and (map(exp) | add) > 0.999' >/dev/null ||
  fail "masked top logprobs do not form the allowed distribution: $(echo "$r" | jq -c '.meta_info.output_top_logprobs[0]')"
echo "admission and logprobs: $fails failures"
[ $fails = 0 ]
