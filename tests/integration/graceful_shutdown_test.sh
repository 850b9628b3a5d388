#!/usr/bin/env bash
# SIGTERM with requests in flight (what `systemctl stop` does to sglcpp.service), on the real
# sglcpp-server and tiny-qwen3 (curl + jq):
#  - the listener closes at once: a new connection is refused while the process still drains;
#  - a request that finishes within --graceful-shutdown-timeout ends normally (finish_reason length);
#  - requests still running when the grace runs out are aborted: an OpenAI stream ends with a
#    finish_reason "abort" chunk and data: [DONE], a native /generate stream with finish_reason
#    abort and [DONE], a plain request with its 200 answer; no connection is cut mid-stream
#    (curl exits 0, every event is whole JSON);
#  - the process exits 0 within grace + the 5 s abort window;
#  - SIGTERM while the model is still loading exits 0 at once.
# Exit 77 (CTest skip) when the model or curl/jq/python3 is missing.
set -u
BIN=$1; MODEL=$2
[ -d "$MODEL" ] || { echo "SKIP: $MODEL absent"; exit 77; }
for t in curl jq python3; do command -v $t >/dev/null || { echo "SKIP: needs $t"; exit 77; }; done
. "$(dirname "$0")/server_test_lib.sh"
TMP=$(mktemp -d)
trap '[ -n "$PID" ] && kill -9 $PID 2>/dev/null; rm -rf $TMP' EXIT
J='Content-Type: application/json'
now() { date +%s.%N; }
# elapsed_below <since> <seconds>: true when less than <seconds> have passed since <since>.
elapsed_below() { python3 -c "import sys; sys.exit(0 if $(now) - $1 < $2 else 1)"; }
# wait_events <file> <n>: until the stream in <file> has <n> data lines (10 s at most).
wait_events() { for _ in $(seq 1 200); do [ "$(grep -c '^data: ' "$1" 2>/dev/null)" -ge "$2" ] 2>/dev/null && return 0; sleep 0.05; done; return 1; }
# stream_whole <file> <name>: every event is JSON and the last one is [DONE].
stream_whole() {
  local f=$1 name=$2
  [ "$(grep '^data: ' "$f" | tail -1)" = "data: [DONE]" ] || fail "$name: does not end with data: [DONE]: $(tail -c 300 "$f")"
  grep '^data: {' "$f" | sed 's/^data: //' | jq -e . >/dev/null 2>&1 || fail "$name: an event is not whole JSON"
}
# sigterm_and_check_listener: sends SIGTERM, then expects a new connection to be refused within
# 1 s while the process is still alive (draining). Sets T0.
sigterm_and_check_listener() {
  T0=$(now)
  kill -TERM $PID
  local refused=0
  for _ in $(seq 1 20); do
    curl -s -o /dev/null -m 2 $BASE/health; [ $? = 7 ] && { refused=1; break; }
    sleep 0.05
  done
  [ $refused = 1 ] || fail "the listener still accepts connections 1 s after SIGTERM"
  kill -0 $PID 2>/dev/null || fail "premise: the server exited before its requests ended (nothing drained)"
}
# wait_exit <max seconds>: the server's exit status must be 0, within the bound.
wait_exit() {
  wait $PID; local rc=$?; PID=""
  [ $rc = 0 ] || fail "exit status $rc after SIGTERM (expected 0)"
  elapsed_below $T0 $1 || fail "the server took over $1 s to exit after SIGTERM"
}

# --- 1. The grace runs out: running requests are aborted with proper final events.
echo "[${SECONDS}s] requests still running after --graceful-shutdown-timeout 1"
start "$MODEL" --graceful-shutdown-timeout 1 || exit 1
curl -sN -o $TMP/chat $BASE/v1/chat/completions -H "$J" -d '{"model":"m","stream":true,"max_tokens":4000,
  "ignore_eos":true,"messages":[{"role":"user","content":"Tell a long story."}]}' 2>/dev/null &
c_chat=$!
curl -sN -o $TMP/gen $BASE/generate -H "$J" -d '{"text":"Once upon a time","stream":true,
  "sampling_params":{"max_new_tokens":4000,"ignore_eos":true}}' 2>/dev/null &
c_gen=$!
curl -s -o $TMP/plain -w '%{http_code}' $BASE/v1/completions -H "$J" -d '{"model":"m","prompt":"Hello",
  "max_tokens":4000,"ignore_eos":true}' >$TMP/plain_code 2>/dev/null &
c_plain=$!
wait_events $TMP/chat 3 && wait_events $TMP/gen 3 || fail "premise: the streams did not start"
sigterm_and_check_listener
wait $c_chat; rc_chat=$?
wait $c_gen; rc_gen=$?
wait $c_plain; rc_plain=$?
wait_exit 9  # 1 s grace + 5 s abort window + margin
[ $rc_chat = 0 ] || fail "chat stream: curl exit $rc_chat (18/56: the connection was cut mid-stream)"
[ $rc_gen = 0 ] || fail "generate stream: curl exit $rc_gen (18/56: the connection was cut mid-stream)"
[ $rc_plain = 0 ] || fail "plain completion: curl exit $rc_plain"
stream_whole $TMP/chat "chat stream"
stream_whole $TMP/gen "generate stream"
grep '^data: {' $TMP/chat | sed 's/^data: //' | jq -r '.choices[0].finish_reason // empty' | tail -1 | grep -qx abort ||
  fail "chat stream: no final chunk with finish_reason abort: $(grep '^data: {' $TMP/chat | tail -1)"
grep '^data: {' $TMP/gen | tail -1 | sed 's/^data: //' | jq -e '.meta_info.finish_reason.type=="abort"' >/dev/null ||
  fail "generate stream: last event is not finish_reason abort: $(grep '^data: {' $TMP/gen | tail -1 | head -c 300)"
[ "$(cat $TMP/plain_code)" = 200 ] && jq -e '.choices[0].finish_reason=="abort"' $TMP/plain >/dev/null ||
  fail "plain completion: $(cat $TMP/plain_code) $(head -c 300 $TMP/plain)"
grep -q "Aborting 3 request(s) still running" $TMP/server.log || fail "the log does not name the 3 aborted requests"

# --- 2. Within the grace: a running stream finishes normally, then the process exits 0.
echo "[${SECONDS}s] a stream that finishes within the grace"
# A grace that a slow (shared) machine's 1000 tokens cannot outlast; fast ones need ~0.5 s.
start "$MODEL" --graceful-shutdown-timeout 120 || exit 1
curl -sN -o $TMP/short $BASE/v1/chat/completions -H "$J" -d '{"model":"m","stream":true,"max_tokens":1000,
  "ignore_eos":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Count."}]}' 2>/dev/null &
c_short=$!
wait_events $TMP/short 2 || fail "premise: the stream did not start"
sigterm_and_check_listener
grep -q '^data: \[DONE\]' $TMP/short && fail "premise: the stream had ended before SIGTERM"
wait $c_short; rc_short=$?
wait_exit 120
[ $rc_short = 0 ] || fail "stream within the grace: curl exit $rc_short"
stream_whole $TMP/short "stream within the grace"
grep '^data: {' $TMP/short | sed 's/^data: //' | jq -r '.choices[0].finish_reason // empty' | tail -1 | grep -qx length ||
  fail "stream within the grace: did not finish normally: $(grep '^data: {' $TMP/short | tail -1)"
[ "$(grep '^data: {' $TMP/short | tail -1 | sed 's/^data: //' | jq -r '.usage.completion_tokens')" = 1000 ] ||
  fail "stream within the grace: usage is not its 1000 tokens: $(grep '^data: {' $TMP/short | tail -1)"
grep -q "Aborting" $TMP/server.log && fail "a request within the grace was aborted"

# --- 3. SIGTERM while loading (before ready): the process exits 0 at once, not after the load.
echo "[${SECONDS}s] SIGTERM while the model loads"
port=$(free_port)
# The qwen3-0.6b preset's dummy weights (0.6 B parameters) take a while to fill.
"$BIN" --model-path qwen3-0.6b --load-format dummy --tokenizer-path "$MODEL" --port $port --max-total-tokens 8192 >$TMP/load.log 2>&1 &
PID=$!
for _ in $(seq 1 200); do grep -q "Loading model" $TMP/load.log && break; sleep 0.02; done
T0=$(now); kill -TERM $PID
wait $PID; rc=$?; PID=""
if grep -q "ready to roll" $TMP/load.log; then
  echo "note: the load finished before SIGTERM; the startup case is not exercised here"
else
  [ $rc = 0 ] || fail "SIGTERM while loading: exit status $rc: $(tail -3 $TMP/load.log)"
  elapsed_below $T0 3 || fail "SIGTERM while loading: the process took over 3 s to exit"
  grep -q "Received SIGTERM while starting up" $TMP/load.log || fail "SIGTERM while loading: not logged"
fi

echo "[${SECONDS}s] $fails failure(s)"
[ $fails = 0 ]
