#!/usr/bin/env bash
# --crash-dump-folder and --show-time-cost (issue 27) end to end:
#  - SIGTERM: after the drain the server writes <folder>/<host>/crash_dump_*.json with the requests
#    of the last minutes (SGLang-JAX dumps on its graceful exit too), and --show-time-cost logged a
#    line per step;
#  - a hung step (--test-stall-step with --watchdog-timeout 1): the server dumps the request it was
#    serving (unfinished) and exits 1.
# Usage: crash_dump_test.sh <sglcpp-server> <model dir>. Exit 77 (skip) without the model or jq.
set -uo pipefail
BIN=$1 MODEL=$2
[ -d "$MODEL" ] || { echo "SKIP: $MODEL absent"; exit 77; }
for t in curl jq python3; do command -v $t >/dev/null || { echo "SKIP: needs $t"; exit 77; }; done
TMP=$(mktemp -d)
. "$(dirname "$0")/server_test_lib.sh"
trap 'stop; rm -rf $TMP' EXIT
J='Content-Type: application/json'

# --- SIGTERM ---
start "$MODEL" --crash-dump-folder "$TMP/dumps" --show-time-cost --graceful-shutdown-timeout 2 || exit 1
for w in alpha beta; do
  curl -sf "$BASE/generate" -H "$J" \
    -d "{\"text\":\"$w\",\"sampling_params\":{\"max_new_tokens\":4,\"temperature\":0}}" >/dev/null ||
    fail "/generate $w"
done
# One stream still running at SIGTERM: the drain ends it (abort), and it is in the dump too.
curl -sN "$BASE/generate" -H "$J" \
  -d '{"text":"gamma","stream":true,"sampling_params":{"max_new_tokens":4000,"ignore_eos":true}}' \
  >"$TMP/stream.txt" 2>/dev/null &
CURL=$!
sleep 1
kill -TERM $PID
wait $PID; rc=$?
wait $CURL 2>/dev/null
PID=""
[ $rc -eq 0 ] || fail "SIGTERM exit status $rc"
dump=$(find "$TMP/dumps" -name 'crash_dump_*.json' | head -1)
if [ -z "$dump" ]; then
  fail "no dump after SIGTERM: $(tail -5 $TMP/server.log)"
else
  [ "$(basename "$(dirname "$(dirname "$dump")")")" = dumps ] || fail "dump not under <folder>/<host>/: $dump"
  jq -e '.reason == "SIGTERM"' "$dump" >/dev/null || fail "reason: $(jq -c .reason "$dump")"
  jq -e '.server_args.model_path | endswith("tiny-qwen3")' "$dump" >/dev/null || fail "server_args lack model_path"
  texts=$(jq -r '[.requests[].obj.text] | sort | join(",")' "$dump")
  [ "$texts" = "alpha,beta,gamma" ] || fail "requests in the dump: $texts"
  jq -e '[.requests[] | select(.obj.text == "alpha") | .out.meta_info.completion_tokens] == [4]' "$dump" >/dev/null ||
    fail "finished request's output missing: $(jq -c '.requests[0].out' "$dump" | head -c 300)"
  jq -e '[.requests[] | select(.obj.text == "gamma") | .out.meta_info.finish_reason.type] == ["abort"]' "$dump" \
    >/dev/null || fail "the stream ended by the drain is not recorded as aborted"
  jq -e 'all(.requests[]; .finished_time >= .created_time)' "$dump" >/dev/null || fail "times"
fi
grep -q "Dumped 3 finished and 0 unfinished requests before crash to $dump" $TMP/server.log ||
  fail "dump log line: $(grep -i dump $TMP/server.log | tail -3)"
grep -qE "Time cost of prefill step \(1 reqs, [0-9]+ tokens\): schedule [0-9.]+ ms, forward [0-9.]+ ms" \
  $TMP/server.log || fail "--show-time-cost line for a prefill missing"
grep -qE "Time cost of decode step" $TMP/server.log || fail "--show-time-cost line for a decode missing"

# --- watchdog ---
rm -rf "$TMP/dumps"
start "$MODEL" --crash-dump-folder "$TMP/dumps" --watchdog-timeout 1 --test-stall-step 3 || exit 1
curl -s -m 60 "$BASE/generate" -H "$J" -d '{"text":"delta","sampling_params":{"max_new_tokens":8}}' \
  >"$TMP/hung.txt" 2>/dev/null &
CURL=$!
for _ in $(seq 1 120); do kill -0 $PID 2>/dev/null || break; sleep 0.25; done
if kill -0 $PID 2>/dev/null; then
  fail "the server still runs 30 s after its step hung"
else
  wait $PID; rc=$?
  [ $rc -eq 1 ] || fail "exit status after the watchdog: $rc (want 1)"
fi
PID=""
wait $CURL 2>/dev/null
dump=$(find "$TMP/dumps" -name 'crash_dump_*.json' | head -1)
if [ -z "$dump" ]; then
  fail "no dump after the watchdog: $(tail -5 $TMP/server.log)"
else
  jq -e '.reason | startswith("watchdog")' "$dump" >/dev/null || fail "reason: $(jq -c .reason "$dump")"
  jq -e '[.requests[] | select(.obj.text == "delta") | .out] == [{}]' "$dump" >/dev/null ||
    fail "the hung request is not in the dump as unfinished: $(jq -c .requests "$dump" | head -c 300)"
fi
grep -q "Dumped 0 finished and 1 unfinished requests" $TMP/server.log || fail "watchdog dump log line"

[ $fails -eq 0 ] && echo "crash dump: all checks passed"
exit $((fails > 0))
