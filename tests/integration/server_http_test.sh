#!/usr/bin/env bash
# Starts the real sglcpp-server on ../shared/models/tiny-qwen3 and checks the HTTP API with curl:
# routes, batch /generate, stream == non-stream text, logprob layout, [DONE], bad input, disconnect,
# concurrent streams, SIGTERM exit 0. Exit 77 (CTest skip) when the model or curl/jq is missing.
set -u
BIN=$1; MODEL=$2
[ -d "$MODEL" ] || { echo "SKIP: $MODEL absent"; exit 77; }
command -v curl >/dev/null && command -v jq >/dev/null || { echo "SKIP: needs curl and jq"; exit 77; }
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
B=http://127.0.0.1:$PORT; LOG=$(mktemp); fails=0
"$BIN" --model-path "$MODEL" --max-total-tokens 65536 --port "$PORT" --enable-metrics >"$LOG" 2>&1 &
SRV=$!
trap 'kill $SRV 2>/dev/null; rm -f $LOG' EXIT
for _ in $(seq 1 240); do curl -sf $B/health >/dev/null && break; sleep 0.5; done
fail() { echo "FAIL: $1"; fails=$((fails+1)); }
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
J='Content-Type: application/json'
grep -q "The server is fired up and ready to roll!" "$LOG" || fail "no ready line"
[ "$(code $B/health)" = 200 ] || fail "health"
curl -sf $B/v1/models | jq -e '.object=="list" and .data[0].object=="model" and .data[0].max_model_len>0' >/dev/null || fail "v1/models"
curl -sf $B/get_model_info | jq -e '.model_path and .is_generation==true' >/dev/null || fail "get_model_info"
curl -sf $B/get_server_info | jq -e '.max_total_num_tokens>0 and .internal_states[0].last_gen_throughput!=null and .port=='$PORT >/dev/null || fail "get_server_info"
r=$(curl -sf $B/generate -H "$J" -d '{"text":"def main():","sampling_params":{"max_new_tokens":8,"temperature":0,"ignore_eos":true}}')
echo "$r" | jq -e '.meta_info.completion_tokens==8 and (.meta_info.id|length)==32 and .meta_info.finish_reason.type=="length" and (.output_ids|length)==8 and .meta_info.e2e_latency>0' >/dev/null || fail "generate: $r"
s=$(curl -sN $B/generate -H "$J" -d '{"text":"def main():","stream":true,"sampling_params":{"max_new_tokens":8,"temperature":0,"ignore_eos":true}}')
[ "$(echo "$s" | tail -1)" = "data: [DONE]" ] || fail "stream does not end with [DONE]"
last=$(echo "$s" | grep '^data: {' | tail -1 | sed 's/^data: //')
[ "$(echo "$last" | jq -r .text)" = "$(echo "$r" | jq -r .text)" ] || fail "stream text != non-stream text"
[ "$(echo "$s" | grep '^data: {' | head -1 | sed 's/^data: //' | jq -r .meta_info.finish_reason)" = null ] || fail "first event finish not null"
b=$(curl -sf $B/generate -H "$J" -d '{"text":["a","b"],"sampling_params":{"max_new_tokens":2}}')
echo "$b" | jq -e 'length==2' >/dev/null || fail "batch generate"
n=$(curl -sf $B/generate -H "$J" -d '{"text":"a","sampling_params":{"max_new_tokens":2,"n":2}}')
echo "$n" | jq -e 'length==2' >/dev/null || fail "n=2 generate"
lp=$(curl -sf $B/generate -H "$J" -d '{"text":"hello world","return_logprob":true,"top_logprobs_num":2,"logprob_start_len":0,"sampling_params":{"max_new_tokens":3,"temperature":0}}')
echo "$lp" | jq -e '.meta_info.output_token_logprobs|length==3 and (.[0]|length==3) and (.[0][1]|type=="number")' >/dev/null || fail "output logprobs: $(echo $lp | head -c 300)"
echo "$lp" | jq -e '.meta_info.input_token_logprobs[0][0]==null and (.meta_info.output_top_logprobs[0]|length==2)' >/dev/null || fail "input/top logprobs"
st=$(curl -sf $B/generate -H "$J" -d '{"text":"a b c d e f","sampling_params":{"max_new_tokens":1,"stop_token_ids":[],"temperature":0}}')
echo "$st" | jq -e '.meta_info.completion_tokens==1' >/dev/null || fail "max_new_tokens 1"
c=$(curl -sf $B/v1/completions -H "$J" -d '{"model":"m","prompt":"import os","max_tokens":4,"temperature":0}')
echo "$c" | jq -e '.object=="text_completion" and .model=="m" and .usage.completion_tokens==4' >/dev/null || fail "completions: $c"
cs=$(curl -sN $B/v1/chat/completions -H "$J" -d '{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":4,"stream":true,"stream_options":{"include_usage":true}}')
echo "$cs" | grep '^data: {' | tail -1 | sed 's/^data: //' | jq -e '.choices==[] and .usage.completion_tokens==4' >/dev/null || fail "chat usage chunk"
[ "$(code -X POST $B/generate -H "$J" -d '{bad json')" = 400 ] || fail "bad json"
[ "$(code -X POST $B/generate -H "$J" -d '{"text":"x","sampling_params":{"temperature":-1}}')" = 400 ] || fail "neg temperature"
[ "$(code -X POST $B/v1/chat/completions -H "$J" -d '{"model":"m","messages":[]}')" = 400 ] || fail "empty messages"
[ "$(code -X POST $B/v1/chat/completions -H 'Content-Type: text/plain' -d '{}')" = 400 ] || fail "content type"
[ "$(code $B/no/such/path)" = 404 ] || fail "404"
[ "$(code $B/generate)" = 405 ] || fail "405"
[ "$(code $B/flush_cache)" = 200 ] || fail "flush_cache"
[ "$(code $B/health_generate)" = 200 ] || fail "health_generate"
curl -sf $B/metrics | grep -q '^sglang:generation_tokens_total{engine_type="unified",model_name=' || fail "metrics"
[ "$(code -X POST $B/abort_request -H "$J" -d '{"rid":"nope"}')" = 200 ] || fail "abort_request"
# The first event of every stream carries exactly the first token (SGLang's clients take the
# chunk whose completion_tokens is 1 as the first token), batched and with the cache flushed.
for i in $(seq 1 12); do
  curl -s -X POST $B/flush_cache >/dev/null
  firsts=$(curl -sN $B/generate -H "$J" -d '{"input_ids":[[1,2,3,'$i'],[4,5,6,'$i'],[7,8,9,'$i']],"stream":true,"sampling_params":{"max_new_tokens":12,"temperature":0,"ignore_eos":true,"stream_interval":1}}' \
    | sed -n 's/^data: \({.*\)$/\1/p' | jq -s -c 'group_by(.index) | map(.[0].meta_info.completion_tokens)')
  [ "$firsts" = "[1,1,1]" ] || { fail "first events' completion_tokens: $firsts (try $i)"; break; }
done
# 32 concurrent streams all finish; a client vanishing mid-stream leaves the server healthy, no KV held.
for i in $(seq 1 32); do (curl -sN -m 120 $B/generate -H "$J" -d "{\"text\":\"x$i\",\"stream\":true,\"sampling_params\":{\"max_new_tokens\":8,\"ignore_eos\":true}}" | grep -c '^data: \[DONE\]' > $LOG.c$i) & pids="${pids:-} $!"; done
wait $pids; ok=$(cat $LOG.c* | paste -sd+ | bc); rm -f $LOG.c*
[ "$ok" = 32 ] || fail "only $ok/32 concurrent streams finished"
curl -sN -m 1 $B/generate -H "$J" -d '{"text":"x","stream":true,"sampling_params":{"max_new_tokens":3000,"ignore_eos":true}}' >/dev/null 2>&1
sleep 1; [ "$(code $B/health)" = 200 ] || fail "unhealthy after disconnect"
for _ in $(seq 1 20); do idle=$(curl -sf $B/get_server_info | jq -r '.internal_states[0].running_batch_size'); [ "$idle" = 0 ] && break; sleep 0.5; done
[ "$idle" = 0 ] || fail "aborted request still running ($idle)"
# SIGTERM during a stream: the stream ends with [DONE] and the process exits 0.
(curl -sN -m 60 $B/generate -H "$J" -d '{"text":"y","stream":true,"sampling_params":{"max_new_tokens":64,"ignore_eos":true}}' > $LOG.term) & cp=$!
sleep 0.3; kill -TERM $SRV; wait $SRV; rc=$?; wait $cp
[ $rc = 0 ] || fail "exit code $rc after SIGTERM"
grep -q '^data: \[DONE\]' $LOG.term || fail "stream cut by SIGTERM"; rm -f $LOG.term
echo "server http: $fails failures"
[ $fails = 0 ]
