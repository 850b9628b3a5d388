#!/usr/bin/env bash
# SGLang behaviours at the server's edges, on the real sglcpp-server (curl + jq):
#  - /abort_request {"abort_all": true} ends every running and queued stream with finish_reason abort;
#  - GET /v1/models/{id} percent-decodes the id (the OpenAI SDKs send the model path as %2Fwork%2F...);
#  - --max-payload-size (bytes) sets the body limit, 413 "Payload Too Large" above it;
#  - a prompt text that cannot fit the context by its byte length is a 400 at once, not after
#    seconds in the tokenizer, on /generate, /v1/completions and /v1/chat/completions.
# Exit 77 (CTest skip) when the model or curl/jq/python3 is missing.
set -u
BIN=$1; MODEL=$2
. "$(dirname "$0")/server_test_lib.sh"
LIMIT=9000000  # above the 8 MB prompts below, under the 10 MB body
# 16 running at most, so abort_all meets queued requests too.
serve_whole_script --max-payload-size $LIMIT --max-running-requests 16
state() { curl -sf $A/get_server_info | jq -r ".internal_states[0].$1"; }

# --- abort_all: 32 long streams (16 running, 16 queued) all end promptly with finish_reason abort.
echo "[${SECONDS}s] abort_all"
pids=
for i in $(seq 1 32); do
  curl -sN -m 120 $A/generate -H "$J" \
    -d "{\"text\":\"story $i\",\"stream\":true,\"sampling_params\":{\"max_new_tokens\":4000,\"ignore_eos\":true}}" \
    >$TMP/s$i 2>/dev/null &
  pids="$pids $!"
done
for _ in $(seq 1 80); do
  [ $(( $(state running_batch_size) + $(state waiting_queue_size) )) -ge 32 ] && break
  sleep 0.25
done
[ "$(state waiting_queue_size)" -gt 0 ] || fail "abort_all premise: no request queued"
t0=$(date +%s.%N)
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST $A/abort_request -H "$J" -d '{"abort_all":true}')" = 200 ] ||
  fail "abort_all status"
wait $pids
took=$(python3 -c "print($(date +%s.%N) - $t0)")
python3 -c "import sys; sys.exit(0 if $took < 10 else 1)" || fail "abort_all: streams took ${took}s to end"
aborted=0
for i in $(seq 1 32); do
  last=$(grep '^data: {' $TMP/s$i | tail -1 | sed 's/^data: //')
  [ "$(echo "$last" | jq -r .meta_info.finish_reason.type)" = abort ] && aborted=$((aborted+1))
  grep -q '^data: \[DONE\]' $TMP/s$i || fail "stream $i did not end with [DONE]"
done
[ $aborted = 32 ] || fail "only $aborted/32 streams ended with finish_reason abort"
[ "$(state running_batch_size)" = 0 ] && [ "$(state waiting_queue_size)" = 0 ] || fail "requests left after abort_all"
r=$(curl -sf $A/generate -H "$J" -d '{"text":"a","sampling_params":{"max_new_tokens":2,"ignore_eos":true}}')
echo "$r" | jq -e '.meta_info.finish_reason.type=="length"' >/dev/null || fail "not serving after abort_all: $r"
rm -f $TMP/s*

# --- /v1/models/{id} percent-decoded: the default served name is the model path.
echo "[${SECONDS}s] /v1/models/{id}"
name=$(curl -sf $A/v1/models | jq -r '.data[0].id')
enc=$(python3 -c 'import sys,urllib.parse;print(urllib.parse.quote(sys.argv[1],safe=""))' "$name")
case $enc in *%2F*) ;; *) fail "premise: served name $name has no '/'" ;; esac
curl -sf $A/v1/models/$enc | jq -e --arg n "$name" '.id==$n and .object=="model"' >/dev/null ||
  fail "GET /v1/models/$enc: $(curl -s $A/v1/models/$enc)"
for bad in '%zz' '%' '%2' 'x%FFy'; do
  code=$(curl -s -o $TMP/m -w '%{http_code}' "$A/v1/models/$bad")
  [ "$code" = 404 ] && jq -e '.error.code=="model_not_found" and .error.param=="model"' $TMP/m >/dev/null ||
    fail "GET /v1/models/$bad: $code $(head -c 200 $TMP/m)"
done

# --- --max-payload-size: over it 413 Payload Too Large (both error shapes), under it served.
echo "[${SECONDS}s] --max-payload-size"
python3 -c "import json;print(json.dumps({'text':'a'*10000000}))" >$TMP/over.json
code=$(curl -s -o $TMP/r -w '%{http_code}' $A/generate -H "$J" --data-binary @$TMP/over.json)
[ "$code" = 413 ] && jq -e '(keys==["error"]) and (.error.message|startswith("Payload Too Large"))' $TMP/r >/dev/null ||
  fail "generate over the limit: $code $(head -c 200 $TMP/r)"
code=$(curl -s -o $TMP/r -w '%{http_code}' $A/v1/completions -H "$J" --data-binary @$TMP/over.json)
[ "$code" = 413 ] && jq -e '.object=="error" and .code==413 and (.message|startswith("Payload Too Large"))' $TMP/r >/dev/null ||
  fail "completions over the limit: $code $(head -c 200 $TMP/r)"
[ "$(curl -s -o /dev/null -w '%{http_code}' $A/health)" = 200 ] || fail "unhealthy after 413"

# --- a prompt that cannot fit by its bytes: 400 with the context-length message, at once.
echo "[${SECONDS}s] 8 MB prompts"
python3 - $TMP <<'EOF'
import json, sys
t = 'a' * 8000000
d = sys.argv[1]
json.dump({'text': t}, open(d + '/gen.json', 'w'))
json.dump({'model': 'm', 'prompt': t}, open(d + '/cmp.json', 'w'))
json.dump({'model': 'm', 'messages': [{'role': 'user', 'content': t}]}, open(d + '/chat.json', 'w'))
json.dump({'model': 'm', 'messages': [{'role': 'system', 'content': 'Be brief.'},
                                      {'role': 'user', 'content': [{'type': 'text', 'text': t}]}]},
          open(d + '/parts.json', 'w'))
EOF
# "Expect:" off: curl otherwise waits up to 1 s for a 100 Continue before sending a big body.
for route in generate:gen v1/completions:cmp v1/chat/completions:chat v1/chat/completions:parts; do
  out=$(curl -s -o $TMP/r -w '%{http_code} %{time_total}' $A/${route%%:*} -H "$J" -H "Expect:" --data-binary @$TMP/${route##*:}.json)
  code=${out% *}; secs=${out#* }
  [ "$code" = 400 ] || fail "/${route%%:*} 8 MB prompt: status $code $(head -c 200 $TMP/r)"
  grep -q "longer than the model's context length" $TMP/r || fail "/${route%%:*} 8 MB prompt: $(head -c 200 $TMP/r)"
  # < 100 ms here; 1 s leaves room for a loaded CI machine (the tokenizer took 10-17 s).
  python3 -c "import sys; sys.exit(0 if $secs < 1.0 else 1)" || fail "/${route%%:*} 8 MB prompt took ${secs}s"
  echo "  /${route%%:*}: $code in ${secs}s"
done
# Long but fitting (~3000 tokens) is still served; one just past the context gets the token count.
fit=$(python3 -c "import json;print(json.dumps({'text':'hello '*3000,'sampling_params':{'max_new_tokens':2}}))")
r=$(curl -s $A/generate -H "$J" -d "$fit")
echo "$r" | jq -e '.meta_info.prompt_tokens>2000 and .meta_info.completion_tokens==2' >/dev/null ||
  fail "long fitting prompt: $(echo "$r" | head -c 200)"
over=$(python3 -c "import json;print(json.dumps({'text':'hello '*5000}))")
curl -s $A/generate -H "$J" -d "$over" | grep -Eq 'The input \([0-9]+ tokens\) is longer' ||
  fail "just over the context: not the token-count message"

kill -0 $SRV 2>/dev/null || fail "server died"
kill -TERM $SRV; wait $SRV; rc=$?; SRV=
[ $rc = 0 ] || fail "exit code $rc after SIGTERM"
echo "server limits: $fails failures"
[ $fails = 0 ]
