#!/usr/bin/env bash
# RL-trainer control routes on the real sglcpp-server (curl + jq):
#  - /pause_generation in each mode with streaming /generate requests in flight: abort ends them
#    with finish_reason abort; retract and in_place stop all progress, and after
#    /continue_generation every stream completes with the same greedy text as an unpaused run.
#    A request sent while paused waits and completes after continue. Bad modes are 400s.
#  - /release_memory_occupation {"tags":["kv_cache"]} (refused while requests hold KV), a request
#    waiting while released, /resume_memory_occupation, then the same greedy output as before the
#    release. With no tags (SGLang's default: weights too) the resident memory drops by about the
#    weights' size; a request waits until both the weights and the KV cache are back, and the same
#    output follows.
#  - /set_internal_state: the args read back; any key refused.
# Exit 77 (CTest skip) when the model or curl/jq/python3 is missing.
set -u
BIN=$1; MODEL=$2
. "$(dirname "$0")/server_test_lib.sh"
serve_whole_script --skip-server-warmup
post() { curl -s $A$1 -H "$J" -d "$2"; }
post_status() { curl -s -o $TMP/body -w '%{http_code}' $A$1 -H "$J" -d "$2"; }
# A 400 in SGLang's native error shape whose message contains $3.
expect_400() {
  local code; code=$(post_status "$1" "$2")
  [ "$code" = 400 ] || { fail "$1 $2: status $code, want 400: $(cat $TMP/body)"; return; }
  jq -e --arg m "$3" '.error.message|contains($m)' $TMP/body >/dev/null || fail "$1 $2: error body $(cat $TMP/body)"
}
NEW=300  # tokens per stream: long enough to be mid-flight when paused
N=4
gen_body() {  # prompt index, stream flag
  jq -nc --arg t "Story number $1 begins:" --argjson s $2 --argjson n $NEW \
    '{text: $t, stream: $s, sampling_params: {temperature: 0, max_new_tokens: $n, ignore_eos: true}}'
}
# The final text of an SSE /generate stream (each chunk carries the text so far).
stream_text() { grep '^data: {' "$1" | tail -1 | sed 's/^data: //' | jq -r .text; }
stream_finish() { grep '^data: {' "$1" | tail -1 | sed 's/^data: //' | jq -r .meta_info.finish_reason.type; }
chunks() { local n; n=$(grep -c '^data: {' "$1" 2>/dev/null); echo "${n:-0}"; }

echo "[${SECONDS}s] references"
for i in $(seq 1 $N); do post /generate "$(gen_body $i false)" | jq -r .text >$TMP/ref$i; done
[ -s $TMP/ref1 ] || fail "reference generate gave no text"

start_streams() {  # $1: tag
  for i in $(seq 1 $N); do
    curl -sN $A/generate -H "$J" -d "$(gen_body $i true)" >$TMP/$1_s$i &
    echo $! >$TMP/$1_pid$i
  done
  # Wait until every stream has produced a few chunks.
  for _ in $(seq 1 400); do
    local ok=1
    for i in $(seq 1 $N); do [ "$(chunks $TMP/$1_s$i)" -ge 3 ] || ok=0; done
    [ $ok = 1 ] && return; sleep 0.05
  done
  fail "$1: streams did not start"
}
wait_streams() { for i in $(seq 1 $N); do wait "$(cat $TMP/$1_pid$i)" 2>/dev/null; done; }

# --- pause in each mode
for mode in retract in_place abort; do
  echo "[${SECONDS}s] pause_generation mode=$mode"
  start_streams $mode
  r=$(post /pause_generation "{\"mode\":\"$mode\"}")
  [ "$(echo "$r" | jq -c .)" = '{"message":"Generation paused successfully.","status":"ok"}' ] || fail "$mode pause: $r"
  # A request sent while paused waits (neither refused nor run).
  curl -s $A/generate -H "$J" -d "$(gen_body 1 false)" >$TMP/${mode}_late &
  LATE=$!
  sleep 0.3
  before=$(for i in $(seq 1 $N); do chunks $TMP/${mode}_s$i; done | tr '\n' ' ')
  sleep 1
  after=$(for i in $(seq 1 $N); do chunks $TMP/${mode}_s$i; done | tr '\n' ' ')
  if [ $mode != abort ]; then
    [ "$before" = "$after" ] || fail "$mode: streams progressed while paused ($before -> $after)"
    for c in $before; do [ "$c" -lt $NEW ] || fail "$mode: a stream had finished before the pause ($before)"; done
  fi
  [ -s $TMP/${mode}_late ] && fail "$mode: a request sent while paused completed before continue: $(head -c 200 $TMP/${mode}_late)"
  q=$(curl -s $A/get_server_info | jq '.internal_states[0].waiting_queue_size')
  [ "${q:-0}" -ge 1 ] || fail "$mode: the late request is not queued (waiting_queue_size $q)"
  r=$(post /continue_generation '{}')
  [ "$(echo "$r" | jq -c .)" = '{"message":"Generation continued successfully.","status":"ok"}' ] || fail "$mode continue: $r"
  wait_streams $mode; wait $LATE
  for i in $(seq 1 $N); do
    f=$TMP/${mode}_s$i
    grep -q '^data: \[DONE\]' $f || fail "$mode stream $i did not end with [DONE]"
    if [ $mode = abort ]; then
      [ "$(stream_finish $f)" = abort ] || fail "$mode stream $i: finish $(stream_finish $f), want abort"
    else
      [ "$(stream_finish $f)" = length ] || fail "$mode stream $i: finish $(stream_finish $f)"
      [ "$(stream_text $f)" = "$(cat $TMP/ref$i)" ] || fail "$mode stream $i: text differs from the unpaused run"
    fi
  done
  [ "$(jq -r .text $TMP/${mode}_late)" = "$(cat $TMP/ref1)" ] || fail "$mode: late request text differs: $(head -c 300 $TMP/${mode}_late)"
done

echo "[${SECONDS}s] pause_generation errors and defaults"
expect_400 /pause_generation '{"mode":"sideways"}' "Invalid mode"
expect_400 /pause_generation '{"mode":' "JSON"
code=$(curl -s -o $TMP/body -w '%{http_code}' -X POST $A/pause_generation)  # no body: abort mode
[ "$code" = 200 ] || fail "pause without body: $code $(cat $TMP/body)"
post /continue_generation '' >/dev/null

# --- release / resume memory occupation
echo "[${SECONDS}s] release_memory_occupation"
start_streams busy
expect_400 /release_memory_occupation '{"tags":["kv_cache"]}' "pause generation first"
post /abort_request '{"abort_all":true}' >/dev/null
wait_streams busy
expect_400 /release_memory_occupation '{"tags":["gpu"]}' "unknown tag"
code=$(post_status /release_memory_occupation '{"tags":["kv_cache"]}')
[ "$code" = 200 ] && [ "$(cat $TMP/body)" = null ] || fail "release: $code $(cat $TMP/body)"
code=$(post_status /release_memory_occupation '{"tags":["kv_cache"]}')  # again: no-op
[ "$code" = 200 ] || fail "second release: $code $(cat $TMP/body)"
curl -s $A/generate -H "$J" -d "$(gen_body 2 false)" >$TMP/released_gen &
RG=$!
sleep 1
[ -s $TMP/released_gen ] && fail "a request ran while the KV cache was released: $(head -c 200 $TMP/released_gen)"
code=$(post_status /resume_memory_occupation '{"tags":["kv_cache"]}')
[ "$code" = 200 ] && [ "$(cat $TMP/body)" = null ] || fail "resume: $code $(cat $TMP/body)"
wait $RG
[ "$(jq -r .text $TMP/released_gen)" = "$(cat $TMP/ref2)" ] || fail "after resume: text differs: $(head -c 300 $TMP/released_gen)"
r=$(post /generate "$(gen_body 3 false)" | jq -r .text)
[ "$r" = "$(cat $TMP/ref3)" ] || fail "after resume (2): text differs"
# Weights too (no tags: every kind, as SGLang): resident memory drops by about their size.
rss_kb() { awk '/^VmRSS/ {print $2}' /proc/$SRV/status; }
wbytes=$(curl -s $A/get_server_info | jq '.internal_states[0].memory_usage.weight // 0 | . * 1073741824 | floor')
before_kb=$(rss_kb)
code=$(post_status /release_memory_occupation '{}')
[ "$code" = 200 ] || fail "release all: $code $(cat $TMP/body)"
sleep 1.5  # the idle trimmer hands freed heap back after a quiet second
after_kb=$(rss_kb)
echo "  weights ${wbytes} B; RSS ${before_kb} kB -> ${after_kb} kB"
[ $(( (before_kb - after_kb) * 1024 )) -ge $(( wbytes * 7 / 10 )) ] || fail "release all: RSS fell by $(( before_kb - after_kb )) kB, weights are $wbytes B"
curl -s $A/generate -H "$J" -d "$(gen_body 4 false)" >$TMP/weights_gen &
WG=$!
code=$(post_status /resume_memory_occupation '{"tags":["kv_cache"]}')
[ "$code" = 200 ] || fail "resume kv only: $code $(cat $TMP/body)"
sleep 1
[ -s $TMP/weights_gen ] && fail "a request ran while the weights were released: $(head -c 200 $TMP/weights_gen)"
code=$(post_status /resume_memory_occupation '{"tags":["weights","cuda_graph"]}')
[ "$code" = 200 ] || fail "resume weights: $code $(cat $TMP/body)"
wait $WG
[ "$(jq -r .text $TMP/weights_gen)" = "$(cat $TMP/ref4)" ] || fail "after resuming the weights: text differs: $(head -c 300 $TMP/weights_gen)"
# A weight update while the weights are released is refused (resume first).
post_status /release_memory_occupation '{"tags":["weights"]}' >/dev/null
code=$(post_status /update_weights_from_disk "$(jq -nc --arg p "$MODEL" '{model_path: $p}')")
[ "$code" = 400 ] && grep -q "resume them first" $TMP/body || fail "update while released: $code $(cat $TMP/body)"
code=$(post_status /resume_memory_occupation '{}')
[ "$code" = 200 ] || fail "resume all: $code $(cat $TMP/body)"
r=$(post /generate "$(gen_body 3 false)" | jq -r .text)
[ "$r" = "$(cat $TMP/ref3)" ] || fail "after release/resume all: text differs"

# Release after pausing in retract mode with streams in flight, then resume and continue.
start_streams rel
post /pause_generation '{"mode":"retract"}' >/dev/null
code=$(post_status /release_memory_occupation '{"tags":["kv_cache"]}')
[ "$code" = 200 ] || fail "release while paused (retract): $code $(cat $TMP/body)"
code=$(post_status /resume_memory_occupation '{"tags":["kv_cache"]}')
[ "$code" = 200 ] || fail "resume while paused: $code $(cat $TMP/body)"
post /continue_generation '' >/dev/null
wait_streams rel
for i in $(seq 1 $N); do
  [ "$(stream_text $TMP/rel_s$i)" = "$(cat $TMP/ref$i)" ] || fail "release during retract pause: stream $i differs"
done

# --- set_internal_state
echo "[${SECONDS}s] set_internal_state"
r=$(post /set_internal_state '{"server_args":{}}')
echo "$r" | jq -e --arg m "$MODEL" '.updated==true and .server_args.model_path==$m' >/dev/null || fail "set_internal_state read: $(echo "$r" | head -c 300)"
expect_400 /set_internal_state '{"server_args":{"pp_max_micro_batch_size":2}}' "pipeline"
expect_400 /set_internal_state '{"server_args":{"no_such_arg":1}}' "no_such_arg"
expect_400 /set_internal_state '{}' "server_args"

grep -E "Generation (paused|continued)|Memory occupation" $TMP/log | sed "s/^/  server: /" | head -20
kill $SRV 2>/dev/null; wait $SRV 2>/dev/null
if [ $fails -gt 0 ]; then echo "$fails failure(s)"; tail -30 $TMP/log; exit 1; fi
echo "PASS (${SECONDS}s)"
