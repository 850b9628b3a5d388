#!/usr/bin/env bash
# The real sglcpp-server under load and abuse, over TCP (curl + jq):
#  server A: 128 concurrent greedy streams all finish with the one-at-a-time text; 20 clients vanish
#            mid-stream and afterwards no KV is held (no running/queued request, no locked radix node,
#            every page free after /flush_cache); per-request stream_interval; the request log line
#            with token counts; a live table of bad requests, each with its status and error shape.
#  server B: --max-running-requests 1 --max-queued-requests 1 --api-key: a live queue-full 503 in
#            both APIs' shapes with Retry-After, 401 without the key, exit 0 on SIGTERM.
# Exit 77 (CTest skip) when the model or curl/jq is missing.
set -u
BIN=$1; MODEL=$2
[ -d "$MODEL" ] || { echo "SKIP: $MODEL absent"; exit 77; }
command -v curl >/dev/null && command -v jq >/dev/null || { echo "SKIP: needs curl and jq"; exit 77; }
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
TMP=$(mktemp -d); fails=0; SRV_A=; SRV_B=
trap 'kill $SRV_A $SRV_B 2>/dev/null; rm -rf $TMP' EXIT
fail() { echo "FAIL: $1"; fails=$((fails+1)); }
J='Content-Type: application/json'
wait_healthy() { for _ in $(seq 1 240); do curl -sf $1/health >/dev/null && return 0; sleep 0.5; done; return 1; }
# state URL FIELD: one field of /get_server_info's internal_states[0]
state() { curl -sf ${3:+-H "$3"} $1/get_server_info | jq -r ".internal_states[0].$2"; }
# wait_state URL FIELD VALUE [HEADER]: polls up to 20 s
wait_state() { for _ in $(seq 1 80); do [ "$(state $1 $2 "${4:-}")" = "$3" ] && return 0; sleep 0.25; done; return 1; }

PA=$(free_port); A=http://127.0.0.1:$PA
"$BIN" --model-path "$MODEL" --max-total-tokens 65536 --port $PA --max-request-bytes 65536 --enable-metrics >$TMP/a.log 2>&1 &
SRV_A=$!
wait_healthy $A || { cat $TMP/a.log; echo "FAIL: server A not healthy"; exit 1; }

# --- 128 concurrent greedy streams: each ends with [DONE] and carries the one-at-a-time text.
echo "[${SECONDS}s] 128 concurrent greedy streams"
body='{"text":"The capital of France is","stream":STREAM,"sampling_params":{"max_new_tokens":8,"temperature":0,"ignore_eos":true}}'
ref=$(curl -sf $A/generate -H "$J" -d "${body/STREAM/false}" | jq -r .text)
[ -n "$ref" ] || fail "no reference text"
pids=
for i in $(seq 1 128); do
  curl -sN -m 120 $A/generate -H "$J" -d "${body/STREAM/true}" >$TMP/s$i &
  pids="$pids $!"
done
wait $pids
ok=0
for i in $(seq 1 128); do
  last=$(grep '^data: {' $TMP/s$i | tail -1 | sed 's/^data: //')
  if [ "$(grep -v '^$' $TMP/s$i | tail -1)" = "data: [DONE]" ] && [ "$(echo "$last" | jq -r .text)" = "$ref" ] &&
     [ "$(echo "$last" | jq -r .meta_info.completion_tokens)" = 8 ]; then ok=$((ok+1)); fi
done
[ $ok = 128 ] || fail "only $ok/128 concurrent streams finished with the reference text"
rm -f $TMP/s*

# --- 20 clients vanish mid-stream; afterwards nothing runs, nothing is locked, every page is free.
echo "[${SECONDS}s] 20 clients vanish mid-stream"
pids=
for i in $(seq 1 20); do
  curl -sN -m 1.5 $A/generate -H "$J" \
    -d "{\"text\":\"story $i\",\"stream\":true,\"sampling_params\":{\"max_new_tokens\":3000,\"ignore_eos\":true}}" \
    >$TMP/d$i 2>/dev/null &
  pids="$pids $!"
done
wait $pids
cut=0; for i in $(seq 1 20); do grep -q '^data: \[DONE\]' $TMP/d$i || cut=$((cut+1)); done
[ $cut = 20 ] || fail "only $cut/20 streams were cut mid-way (test premise)"
[ "$(curl -s -o /dev/null -w '%{http_code}' $A/health)" = 200 ] || fail "unhealthy after disconnects"
wait_state $A running_batch_size 0 || fail "aborted requests still running: $(state $A running_batch_size)"
[ "$(state $A waiting_queue_size)" = 0 ] || fail "requests still queued"
[ "$(state $A radix_locked_nodes)" = 0 ] || fail "radix nodes still locked: $(state $A radix_locked_nodes)"
curl -sf -X POST $A/flush_cache >/dev/null || fail "flush_cache"
wait_state $A num_used_tokens 0 || fail "KV leaked: $(state $A num_used_tokens) tokens used after flush"
[ "$(state $A num_free_pages)" = "$(state $A num_total_pages)" ] || fail "pages leaked"
aborted=$(curl -sf $A/metrics | grep '^sglang:num_aborted_requests_total' | awk '{print $2}')
[ "${aborted%.*}" -ge 20 ] 2>/dev/null || fail "aborted counter $aborted < 20"

# --- per-request stream_interval 4: the first token at once, then at least 4 tokens between
# events, and the finish (16). Tokens that arrive while the client is busy coalesce (as SGLang's
# tokenizer manager does), so the exact positions depend on timing: check the spacing, not 1,5,9,13.
echo "[${SECONDS}s] per-request stream_interval"
ev=$(curl -sN $A/generate -H "$J" \
  -d '{"text":"a","stream":true,"sampling_params":{"max_new_tokens":16,"ignore_eos":true,"stream_interval":4}}' |
  grep '^data: {' | sed 's/^data: //' | jq -r .meta_info.completion_tokens | paste -sd,)
echo "$ev" | awk -F, '{ if ($NF != 16 || NF > 5 || NF < 2) exit 1;
  for (i = 2; i < NF; ++i) if ($i < $(i-1) + 4) exit 1 }' || fail "stream_interval 4 gave events at $ev"
ev1=$(curl -sN $A/generate -H "$J" -d '{"text":"a","stream":true,"sampling_params":{"max_new_tokens":6,"ignore_eos":true}}' |
  grep -c '^data: {')
[ "$ev1" -ge 2 ] && [ "$ev1" -le 6 ] || fail "stream_interval 1 gave $ev1 events for 6 tokens"

# --- one log line per request with its token counts.
echo "[${SECONDS}s] one log line per request with its token counts."
grep -Eq 'POST /generate 200 [0-9.]+ ms rid=[0-9a-f]{32} prompt_tokens=[0-9]+ completion_tokens=8 cached_tokens=[0-9]+' \
  $TMP/a.log || fail "no request log line with token counts"

# --- bad requests, live: METHOD PATH STATUS SHAPE BODY (shape: native | openai | notfound)
echo "[${SECONDS}s] bad requests, live"
check_bad() {
  local method=$1 path=$2 want=$3 shape=$4 body=${5:-}
  local got
  if [ -n "$body" ]; then
    got=$(curl -s -o $TMP/bad -w '%{http_code}' -X $method $A$path -H "$J" --data-binary "$body")
  else
    got=$(curl -s -o $TMP/bad -w '%{http_code}' -X $method $A$path)
  fi
  [ "$got" = "$want" ] || { fail "$method $path $body: status $got, want $want"; return; }
  case $shape in
    native) jq -e '(keys==["error"]) and (.error.message|type=="string")' $TMP/bad >/dev/null ;;
    openai) jq -e ".object==\"error\" and (.message|type==\"string\") and (.type|type==\"string\") and .code==$want" \
              $TMP/bad >/dev/null ;;
    notfound) jq -e '.error.code=="model_not_found" and .error.param=="model"' $TMP/bad >/dev/null ;;
  esac || fail "$method $path $body: body $(head -c 200 $TMP/bad) is not the $shape error shape"
}
M='"messages":[{"role":"user","content":"hi"}]'
BAD_UTF8=$(printf '{"text":"caf\xc3\x28"}')
BAD_UTF8_CHAT=$(printf '{"model":"m","messages":[{"role":"user","content":"a\xff"}]}')
MANY_STOPS=$(python3 -c 'import json;print(json.dumps({"text":"x","sampling_params":{"stop":[str(i) for i in range(100)]}}))')
check_bad POST /generate 400 native '{bad json'
check_bad POST /generate 400 native '{"text":""}'
check_bad POST /generate 400 native '{"text":5}'
check_bad POST /generate 400 native "$BAD_UTF8"
check_bad POST /generate 400 native '{"input_ids":[999999999]}'
check_bad POST /generate 400 native '{"text":"x","sampling_params":{"temperature":-1}}'
check_bad POST /generate 400 native '{"text":"x","sampling_params":{"temperature":NaN}}'
check_bad POST /generate 400 native '{"text":"x","sampling_params":{"top_p":1.5}}'
check_bad POST /generate 400 native '{"text":"x","sampling_params":{"top_p":0}}'
check_bad POST /generate 400 native '{"text":"x","sampling_params":{"max_new_tokens":-1}}'
check_bad POST /generate 400 native '{"text":"x","sampling_params":{"max_new_tokens":"ten"}}'
check_bad POST /generate 400 native '{"text":"x","sampling_params":{"max_new_tokens":1000000}}'
check_bad POST /generate 400 native "$MANY_STOPS"
check_bad POST /generate 400 native '{"text":"x","sampling_params":{"bogus":1}}'
check_bad POST /generate 400 native '{"text":"x","stream":"yes"}'
check_bad POST /v1/completions 400 openai '{bad json'
check_bad POST /v1/completions 400 openai '{"model":"m","prompt":""}'
check_bad POST /v1/completions 400 openai '{"model":"m","prompt":"x","max_tokens":0}'
check_bad POST /v1/completions 400 openai '{"model":"m","prompt":"x","temperature":-0.5}'
check_bad POST /v1/completions 400 openai '{"model":"m","prompt":[1,999999999]}'
check_bad POST /v1/chat/completions 400 openai '{"model":"m","messages":[]}'
check_bad POST /v1/chat/completions 400 openai '{"model":"m","messages":[{"role":"wizard","content":"x"}]}'
check_bad POST /v1/chat/completions 400 openai "{\"model\":\"m\",$M,\"top_p\":0}"
check_bad POST /v1/chat/completions 400 openai "{\"model\":\"m\",$M,\"max_tokens\":1000000}"
check_bad POST /v1/chat/completions 400 openai "$BAD_UTF8_CHAT"
check_bad GET /no/such/path 404 native
check_bad GET /v1/no/such/path 404 openai
check_bad GET /generate 405 native
check_bad GET /v1/chat/completions 405 openai
check_bad GET /v1/models/gpt-9 404 notfound
check_bad POST /generate 413 native "{\"text\":\"$(head -c 70000 /dev/zero | tr '\0' a)\"}"
big=$(curl -s -o /dev/null -w '%{http_code}' $A/health -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' a)")
[ "$big" = 431 ] || fail "20 kB header: status $big, want 431"
[ "$(curl -s -o /dev/null -w '%{http_code}' $A/health)" = 200 ] || fail "unhealthy after bad requests"
kill -0 $SRV_A 2>/dev/null || fail "server A died"
kill -TERM $SRV_A; wait $SRV_A; rc=$?; SRV_A=
[ $rc = 0 ] || fail "server A exit code $rc after SIGTERM"

# --- server B: queue full (one running, one queued), API key.
echo "[${SECONDS}s] server B"
PB=$(free_port); B=http://127.0.0.1:$PB; K='Authorization: Bearer sk-b'
"$BIN" --model-path "$MODEL" --max-total-tokens 65536 --port $PB --max-running-requests 1 --max-queued-requests 1 --api-key sk-b \
  >$TMP/b.log 2>&1 &
SRV_B=$!
wait_healthy $B || { cat $TMP/b.log; echo "FAIL: server B not healthy"; exit 1; }
[ "$(curl -s -o /dev/null -w '%{http_code}' $B/get_model_info)" = 401 ] || fail "no key: not 401"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer sk-c' $B/get_model_info)" = 401 ] ||
  fail "wrong key: not 401"
long='{"text":"x","stream":true,"sampling_params":{"max_new_tokens":3000,"ignore_eos":true}}'
curl -sN -m 30 $B/generate -H "$J" -H "$K" -d "$long" >/dev/null 2>&1 & l1=$!
wait_state $B running_batch_size 1 "$K" || fail "first long request not running"
curl -sN -m 30 $B/generate -H "$J" -H "$K" -d "$long" >/dev/null 2>&1 & l2=$!
wait_state $B waiting_queue_size 1 "$K" || fail "second long request not queued"
code=$(curl -s -D $TMP/h -o $TMP/q -w '%{http_code}' $B/generate -H "$J" -H "$K" -d '{"text":"y"}')
[ "$code" = 503 ] || fail "queue full: /generate status $code, want 503"
grep -qi '^Retry-After:' $TMP/h || fail "queue full: no Retry-After"
jq -e '(keys==["error"]) and (.error.message|test("queue is full"))' $TMP/q >/dev/null || fail "queue full body $(cat $TMP/q)"
code=$(curl -s -o $TMP/q -w '%{http_code}' $B/v1/completions -H "$J" -H "$K" -d '{"model":"m","prompt":"y","stream":true}')
[ "$code" = 503 ] || fail "queue full: /v1/completions status $code, want 503"
jq -e '.object=="error" and .code==503 and (.message|test("queue is full"))' $TMP/q >/dev/null ||
  fail "queue full OpenAI body $(cat $TMP/q)"
kill $l1 $l2 2>/dev/null; wait $l1 $l2 2>/dev/null
wait_state $B running_batch_size 0 "$K" || fail "B: aborted requests still running"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "$K" $B/generate -H "$J" -d '{"text":"y","sampling_params":{"max_new_tokens":2}}')" = 200 ] ||
  fail "B: not serving after the queue drained"
kill -TERM $SRV_B; wait $SRV_B; rc=$?; SRV_B=
[ $rc = 0 ] || fail "server B exit code $rc after SIGTERM"

echo "server load: $fails failures"
[ $fails = 0 ]
