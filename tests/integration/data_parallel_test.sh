#!/usr/bin/env bash
# --dp-size on the real sglcpp-server (curl + jq): two replicas answer a batch and concurrent
# requests with exactly the greedy texts of one replica, the requests split across both
# (/get_server_info lists each replica under internal_states with what it was routed, /metrics
# each replica's scheduler series under a dp_rank label), control
# routes (/flush_cache, /abort_request abort_all) reach both, every --dp-schedule-policy starts,
# and a bad policy stops the server with a message naming it.
# Exit 77 (CTest skip) when the model or curl/jq/python3 is missing.
set -u
BIN=$1; MODEL=$2
TMP=$(mktemp -d)
. "$(dirname "$0")/server_test_lib.sh"
trap 'stop; rm -rf $TMP' EXIT
[ -d "$MODEL" ] || { echo "SKIP: $MODEL absent"; exit 77; }
for t in curl jq; do command -v $t >/dev/null || { echo "SKIP: needs $t"; exit 77; }; done
J='Content-Type: application/json'
BATCH=$(jq -nc '{text: [range(0;8) | "Item \(.) of the list is"], sampling_params: {temperature: 0, max_new_tokens: 24, ignore_eos: true}}')
one() { jq -nc --arg t "Concurrent request $1 says" '{text: $t, sampling_params: {temperature: 0, max_new_tokens: 32, ignore_eos: true}}'; }
texts() {  # $1: output file: the batch's texts, then 6 concurrent requests' texts in order
  curl -sf $BASE/generate -H "$J" -d "$BATCH" | jq -c '[.[].text]' >"$1" || { fail "batch generate failed"; return; }
  local pids=()
  for i in $(seq 1 6); do curl -sf $BASE/generate -H "$J" -d "$(one $i)" >"$TMP/c$i" & pids+=($!); done
  wait "${pids[@]}"  # not the server, also a child of this script
  for i in $(seq 1 6); do jq -c .text "$TMP/c$i" >>"$1"; done
}

start "$MODEL" || exit 1
texts $TMP/dp1
jq -e '.internal_states | length == 1' <(curl -s $BASE/get_server_info) >/dev/null || fail "dp 1: internal_states is not one entry"
stop

for policy in round_robin min_running_queue shape_aware cache_aware; do
  start "$MODEL" --dp-size 2 --dp-schedule-policy $policy --enable-metrics || continue
  texts $TMP/dp2
  cmp -s $TMP/dp1 $TMP/dp2 || fail "$policy: texts differ from --dp-size 1: $(diff $TMP/dp1 $TMP/dp2 | head -4)"
  info=$(curl -s $BASE/get_server_info)
  jq -e '.internal_states | length == 2' <<<"$info" >/dev/null || fail "$policy: internal_states is not two entries"
  jq -e --arg p $policy '.dp_size == 2 and .dp_schedule_policy_in_effect == $p' <<<"$info" >/dev/null ||
    fail "$policy: dp_size / policy not reported: $(jq -c '{dp_size, dp_schedule_policy_in_effect}' <<<"$info")"
  routed=$(jq -c '[.internal_states[].dp_routed_requests]' <<<"$info")
  # Cache affinity may keep these short, unrelated prompts anywhere; the others spread a burst.
  if [ $policy != cache_aware ]; then
    jq -e 'all(.[]; . > 0) and add == 14' <<<"$routed" >/dev/null || fail "$policy: requests not split: $routed"
  fi
  jq -e '[.internal_states[].num_finished_reqs] | add >= 14' <<<"$info" >/dev/null || fail "$policy: finished counts $(jq -c '[.internal_states[].num_finished_reqs]' <<<"$info")"
  # /metrics: each replica's scheduler series under its dp_rank, one HELP per family.
  curl -s $BASE/metrics >$TMP/metrics
  for r in 0 1; do
    grep -q "^sglang:num_running_reqs{.*dp_rank=\"$r\"" $TMP/metrics || fail "$policy: /metrics has no dp_rank $r series"
  done
  [ -z "$(grep -E '^# (HELP|TYPE) ' $TMP/metrics | awk '{print $2 $3}' | sort | uniq -d)" ] || fail "$policy: a family has two HELP or TYPE lines"
  if command -v promtool >/dev/null; then
    # Only the lints SGLang's own names draw (as metrics_test.sh).
    promtool check metrics <$TMP/metrics >$TMP/prom 2>&1
    other=$(grep -v -e "metric names should not contain ':'" -e "metric name should not include type 'histogram'" $TMP/prom)
    [ -z "$other" ] || fail "$policy: promtool: $(head -3 <<<"$other")"
  fi
  [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST $BASE/flush_cache)" = 200 ] || fail "$policy: /flush_cache"
  stop
done

# abort_all reaches requests on both replicas.
start "$MODEL" --dp-size 2 --dp-schedule-policy round_robin || exit 1
long='{"text": "Once upon a time", "sampling_params": {"temperature": 0, "max_new_tokens": 4000, "ignore_eos": true}}'
curl -s $BASE/generate -H "$J" -d "$long" >$TMP/l1 & p1=$!
curl -s $BASE/generate -H "$J" -d "$long" >$TMP/l2 & p2=$!
sleep 1
curl -s $BASE/abort_request -H "$J" -d '{"abort_all": true}' >/dev/null
wait $p1 $p2
for f in $TMP/l1 $TMP/l2; do
  [ "$(jq -r .meta_info.finish_reason.type $f)" = abort ] || fail "abort_all: $(head -c 200 $f)"
done
jq -e '[.internal_states[].dp_routed_requests] == [1,1]' <(curl -s $BASE/get_server_info) >/dev/null || fail "abort_all: the two were not on two replicas"
stop

# A bad policy: the server stops at once, naming the value and the choices.
"$BIN" --model-path "$MODEL" --dp-size 2 --dp-schedule-policy shortest_queue --port "$(free_port)" >$TMP/bad.log 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "shortest_queue" $TMP/bad.log && grep -q "min_running_queue" $TMP/bad.log ||
  fail "bad policy: exit $rc, $(tail -2 $TMP/bad.log)"

[ $fails -eq 0 ] && echo "PASS: data parallelism" || { echo "$fails failure(s)"; tail -20 $TMP/server.log; exit 1; }
