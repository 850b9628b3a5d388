#!/usr/bin/env bash
# The OpenAI Responses API end to end on the real sglcpp-server (../shared/models/tiny-qwen3) with
# --test-scripted-output forcing the answer: POST /v1/responses streamed and not (reasoning,
# message and function_call items; the official event order with sequence numbers, no [DONE]),
# previous_response_id, store false, GET / DELETE / cancel on stored responses, a tool round trip
# through function_call_output, 400s and 404s in OpenAI's error shape, text.format (json_schema and
# json_object decoded under their grammar on the real model); then the official `openai`
# Node SDK and the Vercel AI SDK (responses_sdk_check.mjs) when tests/node has them.
# Exit 77 (CTest skip) when the model or curl/jq is missing.
set -u
BIN=$1; MODEL=$2; NODE_DIR=${3:-}
[ -d "$MODEL" ] || { echo "SKIP: $MODEL absent"; exit 77; }
command -v curl >/dev/null && command -v jq >/dev/null || { echo "SKIP: needs curl and jq"; exit 77; }
LOG=$(mktemp); fails=0; SRV=
trap '[ -n "$SRV" ] && kill $SRV 2>/dev/null; rm -f $LOG' EXIT
fail() { echo "FAIL: $1"; fails=$((fails+1)); }
J='Content-Type: application/json'

start_server() {  # SCRIPT [extra flags...]
  [ -n "$SRV" ] && { kill $SRV; wait $SRV 2>/dev/null; }
  local script=$1; shift
  PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  B=http://127.0.0.1:$PORT
  "$BIN" --model-path "$MODEL" --max-total-tokens 65536 --port "$PORT" --skip-server-warmup --test-scripted-output "$script" "$@" >"$LOG" 2>&1 &
  SRV=$!
  for _ in $(seq 1 240); do curl -sf $B/health >/dev/null && return 0; sleep 0.25; done
  echo "server did not start:"; cat "$LOG"; exit 1
}
resp() { curl -s $B/v1/responses -H "$J" -d "$1"; }
# "code|body" of a request.
status_of() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

# ---- Reasoning, text and a tool call (hermes + qwen3 reasoning) -------------------------------
REASONING='The user wants the weather.'
CALL=$'<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
start_server $'<think>\n'"$REASONING"$'\n</think>\n\nLet me check.\n'"$CALL" --tool-call-parser hermes --reasoning-parser qwen3
TOOLS='[{"type":"function","name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}]'

r=$(resp '{"model":"m","input":"Weather in Paris?","tools":'"$TOOLS"',"instructions":"Be brief.","metadata":{"t":"1"},"user":"u1","temperature":0.5}')
echo "$r" | jq -e --arg rs "$REASONING" '.object=="response" and (.id|test("^resp_[0-9a-f]{32}$")) and .status=="completed"
    and (.created_at|type)=="number" and .model=="m" and .instructions=="Be brief." and .metadata=={"t":"1"} and .user=="u1"
    and .temperature==0.5 and .store==true and .previous_response_id==null and .incomplete_details==null and .error==null
    and .tool_choice=="auto" and .tools[0].name=="get_weather" and .parallel_tool_calls==true
    and (.output|map(.type))==["reasoning","message","function_call"]
    and .output[0].content==[{"type":"reasoning_text","text":$rs}] and .output[0].summary==[] and (.output[0].id|startswith("rs_"))
    and .output[1].role=="assistant" and .output[1].status=="completed" and (.output[1].id|startswith("msg_"))
    and .output[1].content[0].type=="output_text" and .output[1].content[0].text=="Let me check." and .output[1].content[0].annotations==[]
    and .output[2].name=="get_weather" and (.output[2].arguments|fromjson)=={"city":"Paris"} and (.output[2].call_id|test("^call_"))
    and (.output[2].id|startswith("fc_")) and .output[2].status=="completed"
    and .usage.input_tokens>0 and .usage.output_tokens>0 and .usage.total_tokens==(.usage.input_tokens+.usage.output_tokens)
    and .usage.input_tokens_details.cached_tokens>=0 and .usage.output_tokens_details.reasoning_tokens>0' >/dev/null \
  || fail "non-stream with tools: $r"
ID=$(echo "$r" | jq -r .id)
echo "$r" | jq -e '.output[1].content[0].logprobs==[]' >/dev/null || fail "logprobs without include: $(echo "$r" | jq -c .output[1])"
# include: message.output_text.logprobs — the answer's tokens (not the reasoning block's), with
# top_logprobs alternatives; the same in a stream's final response.
lp=$(resp '{"model":"m","input":"Weather in Paris?","tools":'"$TOOLS"',"include":["message.output_text.logprobs"],"top_logprobs":2}')
echo "$lp" | jq -e '.output[1].content[0].logprobs as $l | ($l|length)>3
    and ($l|all(.logprob<=0 and (.top_logprobs|length)==2 and (.bytes|length)>0))
    and ([$l[].token]|join("")|contains("Let me check.")) and ([$l[].token]|join("")|contains("wants the")|not)' >/dev/null \
  || fail "include logprobs: $(echo "$lp" | jq -c .output[1])"
lps=$(curl -sN $B/v1/responses -H "$J" -d '{"model":"m","input":"Weather in Paris?","tools":'"$TOOLS"',"include":["message.output_text.logprobs"],"top_logprobs":2,"stream":true}' \
  | sed -n 's/^data: \({.*\)$/\1/p' | jq -sc '[.[-1].response.output[1].content[0].logprobs[] | {token, top_logprobs}]')
# (The scripted runner forces each token, so its own logprob is that of whatever was sampled
# underneath: only the tokens and the alternatives are compared.)
[ "$lps" = "$(echo "$lp" | jq -c '[.output[1].content[0].logprobs[] | {token, top_logprobs}]')" ] || fail "streamed include logprobs: $lps"
[ "$(status_of $B/v1/responses -H "$J" -d '{"input":"x","include":["web_search_call.results"]}')" = 400 ] || fail "unknown include value not 400"

# Without tools the call text stays in the message.
n=$(resp '{"model":"m","input":[{"role":"user","content":[{"type":"input_text","text":"Weather?"}]}]}')
echo "$n" | jq -e '(.output|map(.type))==["reasoning","message"] and (.output[1].content[0].text|contains("<tool_call>"))' >/dev/null \
  || fail "no tools: $n"
# tool_choice none: not parsed either.
n2=$(resp '{"model":"m","input":"Weather?","tools":'"$TOOLS"',"tool_choice":"none"}')
echo "$n2" | jq -e '(.output|map(.type))==["reasoning","message"] and .tool_choice=="none"' >/dev/null || fail "tool_choice none: $n2"

# Streamed: the official event order, sequence numbers 0.., no [DONE]; the completed response
# carries the same output as the non-streamed one.
RAW=$(curl -sN $B/v1/responses -H "$J" -d '{"model":"m","input":"Weather in Paris?","tools":'"$TOOLS"',"stream":true}')
echo "$RAW" | grep -q '^data: \[DONE\]' && fail "stream sent [DONE]"
# Every data line is preceded by its event: line naming the same type.
ev_lines=$(echo "$RAW" | grep -c '^event: '); data_lines=$(echo "$RAW" | grep -c '^data: ')
[ "$ev_lines" = "$data_lines" ] && [ "$ev_lines" -gt 5 ] || fail "event/data lines $ev_lines/$data_lines"
S=$(echo "$RAW" | sed -n 's/^data: \({.*\)$/\1/p' | jq -s .)
echo "$RAW" | sed -n 's/^event: //p' | jq -R . | jq -s . > /tmp/resp_ev_names.$$
[ "$(jq -c . /tmp/resp_ev_names.$$)" = "$(echo "$S" | jq -c 'map(.type)')" ] || fail "event: names differ from data types"
rm -f /tmp/resp_ev_names.$$
types=$(echo "$S" | jq -c '[.[].type] | reduce .[] as $t ([]; if (length>0 and .[-1]==$t) then . else .+[$t] end)')
want='["response.created","response.in_progress","response.output_item.added","response.content_part.added","response.reasoning_text.delta","response.reasoning_text.done","response.content_part.done","response.output_item.done","response.output_item.added","response.content_part.added","response.output_text.delta","response.output_text.done","response.content_part.done","response.output_item.done","response.output_item.added","response.function_call_arguments.delta","response.function_call_arguments.done","response.output_item.done","response.completed"]'
[ "$types" = "$want" ] || fail "stream event order: $types"
echo "$S" | jq -e '[.[].sequence_number] == [range(0; length)]' >/dev/null || fail "sequence numbers"
echo "$S" | jq -e '.[0].response.status=="in_progress" and .[0].response.output==[] and .[0].response.usage==null' >/dev/null || fail "created event: $(echo "$S" | jq -c '.[0]')"
echo "$S" | jq -e --arg rs "$REASONING" '([.[] | select(.type=="response.reasoning_text.delta") | .delta] | join(""))==$rs
    and ([.[] | select(.type=="response.output_text.delta") | .delta] | join(""))=="Let me check."
    and ([.[] | select(.type=="response.function_call_arguments.delta") | .delta] | join("") | fromjson)=={"city":"Paris"}' >/dev/null \
  || fail "stream deltas"
final=$(echo "$S" | jq -c '.[-1].response')
echo "$final" | jq -e '.status=="completed" and .usage.output_tokens>0' >/dev/null || fail "completed event: $final"
strip='.output | map(del(.id, .call_id))'
[ "$(echo "$final" | jq -c "$strip")" = "$(echo "$r" | jq -c "$strip")" ] || fail "stream output != non-stream output: $final"
echo "$S" | jq -e '(map(select(.type=="response.output_item.done")) | map(.item)) == .[-1].response.output' >/dev/null || fail "output_item.done items"
SID=$(echo "$final" | jq -r .id)
g=$(curl -s $B/v1/responses/$SID)
[ "$(echo "$g" | jq -c .)" = "$final" ] || fail "GET streamed response: $g"

# GET, previous_response_id, store false, DELETE, cancel.
g=$(curl -s $B/v1/responses/$ID)
[ "$(echo "$g" | jq -c .)" = "$(echo "$r" | jq -c .)" ] || fail "GET stored: $g"
p=$(resp '{"model":"m","input":"And tomorrow?","previous_response_id":"'"$ID"'"}')
echo "$p" | jq -e --arg id "$ID" \
  '.previous_response_id==$id and .status=="completed" and .instructions==null' >/dev/null || fail "previous_response_id: $p"
# The history (user turn, the assistant's text and call) grows the prompt over the bare input by at
# least the previous answer's visible text.
bare=$(resp '{"model":"m","input":"And tomorrow?"}')
[ "$(echo "$p" | jq .usage.input_tokens)" -gt "$(( $(echo "$bare" | jq .usage.input_tokens) + 10 ))" ] || fail "previous response not in prompt: $p"
ns=$(resp '{"model":"m","input":"x","store":false}')
echo "$ns" | jq -e '.store==false' >/dev/null || fail "store false: $ns"
[ "$(status_of $B/v1/responses/$(echo "$ns" | jq -r .id))" = 404 ] || fail "store false but stored"
c=$(curl -s -w '\n%{http_code}' -X POST $B/v1/responses/$ID/cancel)
[ "$(echo "$c" | tail -1)" = 400 ] && echo "$c" | head -1 | jq -e '.object=="error" and .code==400 and (.message|contains("Cannot cancel"))' >/dev/null \
  || fail "cancel completed: $c"
[ "$(status_of -X POST $B/v1/responses/resp_unknown/cancel)" = 404 ] || fail "cancel unknown"
d=$(curl -s -X DELETE $B/v1/responses/$ID)
echo "$d" | jq -e --arg id "$ID" '.=={"id":$id,"object":"response","deleted":true}' >/dev/null || fail "DELETE: $d"
e=$(curl -s -w '\n%{http_code}' $B/v1/responses/$ID)
[ "$(echo "$e" | tail -1)" = 404 ] && echo "$e" | head -1 | jq -e '.object=="error" and .code==404 and .type=="invalid_request_error" and .param=="response_id"' >/dev/null \
  || fail "GET deleted: $e"
[ "$(status_of -X DELETE $B/v1/responses/$ID)" = 404 ] || fail "DELETE twice"

# Tool round trip: the call and its output go back as input items (the response's own output
# items, as SDKs pass them), rendered through the template.
CALL_ITEM=$(echo "$r" | jq -c '.output[2]')
rt=$(resp '{"model":"m","tools":'"$TOOLS"',"input":[{"role":"user","content":"Weather in Paris?"},'"$CALL_ITEM"',{"type":"function_call_output","call_id":'"$(echo "$CALL_ITEM" | jq .call_id)"',"output":"sunny, 21C"}]}')
echo "$rt" | jq -e '.status=="completed" and (.output|map(.type))==["reasoning","message","function_call"]' >/dev/null || fail "tool round trip: $rt"
[ "$(echo "$rt" | jq .usage.input_tokens)" -gt "$(echo "$r" | jq .usage.input_tokens)" ] || fail "round trip history not in prompt"
# The same through previous_response_id: only the function_call_output is new.
r1=$(resp '{"model":"m","input":"Weather in Paris?","tools":'"$TOOLS"'}')
r1id=$(echo "$r1" | jq -r .id); r1call=$(echo "$r1" | jq '.output[2].call_id')
rt2=$(resp '{"model":"m","tools":'"$TOOLS"',"previous_response_id":"'"$r1id"'","input":[{"type":"function_call_output","call_id":'"$r1call"',"output":"sunny"}]}')
echo "$rt2" | jq -e '.status=="completed"' >/dev/null && [ "$(echo "$rt2" | jq .usage.input_tokens)" -gt "$(echo "$r1" | jq .usage.input_tokens)" ] \
  || fail "round trip via previous_response_id: $rt2"

# max_output_tokens cut: status incomplete.
i=$(resp '{"model":"m","input":"x","max_output_tokens":3}')
echo "$i" | jq -e '.status=="incomplete" and .incomplete_details.reason=="max_output_tokens" and .usage.output_tokens==3 and .max_output_tokens==3' >/dev/null \
  || fail "incomplete: $i"
is=$(curl -sN $B/v1/responses -H "$J" -d '{"model":"m","input":"x","max_output_tokens":3,"stream":true}' | sed -n 's/^data: \({.*\)$/\1/p' | jq -s .)
echo "$is" | jq -e '.[-1].type=="response.incomplete" and .[-1].response.status=="incomplete"' >/dev/null || fail "stream incomplete: $(echo "$is" | jq -c '.[-1]')"

# 400s in OpenAI's error shape.
for bad in '{"model":"m"}' '{"input":5}' '{"input":"x","max_output_tokens":0}' '{"input":"x","tools":[{"type":"web_search_preview"}]}' \
           '{"input":[{"type":"item_reference","id":"x"}]}' '{"input":"x","previous_response_id":"resp_missing"}' \
           '{"input":"x","temperature":-1}' '{"input":[{"role":"wizard","content":"x"}]}'; do
  e=$(curl -s -w '\n%{http_code}' $B/v1/responses -H "$J" -d "$bad")
  [ "$(echo "$e" | tail -1)" = 400 ] || fail "not 400: $bad → $e"
  echo "$e" | head -1 | jq -e '.object=="error" and .code==400 and (.message|length)>0' >/dev/null || fail "error shape: $bad → $e"
done
e=$(curl -s $B/v1/responses -H "$J" -d '{"input":"x","previous_response_id":"resp_missing"}')
echo "$e" | jq -e '.param=="previous_response_id" and (.message|contains("resp_missing"))' >/dev/null || fail "previous id error: $e"
[ "$(status_of $B/v1/responses -H 'Content-Type: text/plain' -d '{"input":"x"}')" = 400 ] || fail "content type"
[ "$(status_of $B/v1/responses/resp_nope)" = 404 ] || fail "GET unknown"

# ---- text.format: structured output decoded under the schema (the real model, no script) -------
kill $SRV; wait $SRV 2>/dev/null
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
B=http://127.0.0.1:$PORT
"$BIN" --model-path "$MODEL" --max-total-tokens 65536 --port "$PORT" --skip-server-warmup >"$LOG" 2>&1 &
SRV=$!
for _ in $(seq 1 240); do curl -sf $B/health >/dev/null && break; sleep 0.25; done
FMT='{"format":{"type":"json_schema","name":"answer","strict":true,"schema":{"type":"object","properties":{"city":{"type":"string","maxLength":12},"population":{"type":"integer","minimum":0,"maximum":99999}},"required":["city","population"],"additionalProperties":false}}}'
s=$(resp '{"model":"m","input":"Name a city and its population as JSON.","text":'"$FMT"',"max_output_tokens":400,"temperature":0}')
echo "$s" | jq -e --argjson f "$FMT" '.status=="completed" and .text==$f' >/dev/null || fail "text.format echo: $s"
out=$(echo "$s" | jq -r '.output[] | select(.type=="message") | .content[0].text')
echo "$out" | jq -e '(keys==["city","population"]) and (.city|type=="string") and (.population|type=="number")' >/dev/null \
  || fail "text.format json_schema output: $out"
s=$(resp '{"model":"m","input":"Reply in JSON.","text":{"format":{"type":"json_object"}},"max_output_tokens":400,"temperature":0}')
echo "$s" | jq -r '.output[] | select(.type=="message") | .content[0].text' | jq -e 'type=="object"' >/dev/null \
  || fail "text.format json_object output: $s"
for bad in '{"input":"x","text":{"format":{"type":"xml"}}}' '{"input":"x","text":{"format":{"type":"json_schema","name":"a"}}}' \
           '{"input":"x","text":{"format":{"type":"json_schema","schema":{}}}}'; do
  [ "$(status_of $B/v1/responses -H "$J" -d "$bad")" = 400 ] || fail "text.format not 400: $bad"
done

# ---- background: "queued" at once, GET polls to "completed" (the same output as a plain run);
# cancel stops a long one ("cancelled"); a finished one cannot be cancelled.
q=$(resp '{"model":"m","input":"Count to ten.","background":true,"max_output_tokens":24,"temperature":0}')
qid=$(echo "$q" | jq -r .id)
echo "$q" | jq -e '.status=="queued" and .background==true and .output==[]' >/dev/null || fail "background queued: $q"
for _ in $(seq 1 120); do
  g=$(curl -s $B/v1/responses/$qid); [ "$(echo "$g" | jq -r .status)" = in_progress ] || break; sleep 0.1
done
plain=$(resp '{"model":"m","input":"Count to ten.","max_output_tokens":24,"temperature":0}')
echo "$g" | jq -e --argjson p "$plain" '.status==$p.status and .background==true and .usage.output_tokens==$p.usage.output_tokens
  and (.output[-1].content[0].text)==($p.output[-1].content[0].text)' >/dev/null || fail "background result: $g vs $plain"
[ "$(status_of -X POST $B/v1/responses/$qid/cancel)" = 400 ] || fail "cancelling a finished background response"
l=$(resp '{"model":"m","input":"Go on forever.","background":true,"max_output_tokens":4000,"temperature":0}')
lid=$(echo "$l" | jq -r .id)
sleep 0.3
c=$(curl -s -X POST $B/v1/responses/$lid/cancel)
echo "$c" | jq -e '.status=="cancelled"' >/dev/null || fail "cancel: $c"
for _ in $(seq 1 100); do
  g=$(curl -s $B/v1/responses/$lid); [ "$(echo "$g" | jq -r .status)" = in_progress ] || break; sleep 0.1
done
echo "$g" | jq -e '.status=="cancelled" and .usage.output_tokens < 4000' >/dev/null || fail "cancelled run stored: $(echo "$g" | jq -c '{status,usage}')"
[ "$(status_of $B/v1/responses -H "$J" -d '{"input":"x","background":true,"store":false}')" = 400 ] || fail "background without store not 400"
# background + stream (OpenAI's): the events stream with "queued" first; the run goes on when its
# client leaves, and GET ?stream=true&starting_after=N replays what followed event N.
events() { sed -n 's/^data: \({.*\)$/\1/p' | jq -sc .; }
bs=$(curl -sN $B/v1/responses -H "$J" -d '{"model":"m","input":"Count to ten.","background":true,"stream":true,"max_output_tokens":24,"temperature":0}' | events)
bid=$(echo "$bs" | jq -r '.[0].response.id')
echo "$bs" | jq -e --argjson p "$plain" '.[0].type=="response.created" and .[0].response.status=="queued" and .[0].response.background==true
  and .[1].type=="response.in_progress" and ([.[].sequence_number]==[range(0; length)])
  and .[-1].type==("response."+$p.status) and (.[-1].response.output[-1].content[0].text)==($p.output[-1].content[0].text)' >/dev/null \
  || fail "background stream: $(echo "$bs" | jq -c '[.[0], .[-1]]' | head -c 600)"
replay=$(curl -sN "$B/v1/responses/$bid?stream=true&starting_after=2" | events)
[ "$replay" = "$(echo "$bs" | jq -c '.[3:]')" ] || fail "replay after 2: $(echo "$replay" | head -c 300)"
[ "$(curl -sN "$B/v1/responses/$bid?stream=true" | events)" = "$bs" ] || fail "replay from the start"
[ "$(curl -s $B/v1/responses/$bid | jq -c .output)" = "$(echo "$bs" | jq -c '.[-1].response.output')" ] || fail "GET after a background stream"
[ "$(status_of "$B/v1/responses/$qid?stream=true")" = 400 ] || fail "streaming a background response made without stream"
[ "$(status_of "$B/v1/responses/$bid?stream=true&starting_after=x")" = 400 ] || fail "starting_after not a number"
# The client leaves at once: the run finishes anyway and its events can be followed from the start.
curl -sN --max-time 0.3 $B/v1/responses -H "$J" -d '{"model":"m","input":"Count to ten.","background":true,"stream":true,"max_output_tokens":200,"temperature":0}' >$LOG.left 2>/dev/null
lid2=$(sed -n 's/^data: \({.*\)$/\1/p' $LOG.left | head -1 | jq -r .response.id)
full=$(curl -sN --max-time 60 "$B/v1/responses/$lid2?stream=true" | events)
echo "$full" | jq -e '.[-1].type=="response.completed" or .[-1].type=="response.incomplete"' >/dev/null || fail "run after its client left: $(echo "$full" | jq -c '.[-1]' | head -c 300)"
# Cancelled mid-stream: the follower sees the final response.cancelled event.
curl -sN $B/v1/responses -H "$J" -d '{"model":"m","input":"Go on forever.","background":true,"stream":true,"max_output_tokens":4000,"temperature":0}' >$LOG.long &
CP=$!
for _ in $(seq 1 100); do grep -q '^data: ' $LOG.long 2>/dev/null && break; sleep 0.05; done
cid=$(sed -n 's/^data: \({.*\)$/\1/p' $LOG.long | head -1 | jq -r .response.id)
sleep 0.3
curl -s -X POST $B/v1/responses/$cid/cancel >/dev/null
wait $CP
sed -n 's/^data: \({.*\)$/\1/p' $LOG.long | tail -1 | jq -e '.type=="response.cancelled" and .response.status=="cancelled"' >/dev/null \
  || fail "cancelled background stream: $(tail -c 300 $LOG.long)"
rm -f $LOG.left $LOG.long

# ---- The SDKs on a plain text answer ------------------------------------------------------------
if [ -n "$NODE_DIR" ] && [ -d "$NODE_DIR/node_modules/openai" ] && command -v node >/dev/null; then
  EXPECTED='Hello from sglcpp.'
  NODE_DIR=$(cd "$NODE_DIR" && pwd)
  start_server "$EXPECTED"
  node "$(cd "$(dirname "$0")" && pwd)/responses_sdk_check.mjs" "$B" "$NODE_DIR" "$EXPECTED" || fails=$((fails+1))
else
  echo "note: node SDK checks skipped (no node or tests/node/node_modules/openai)"
fi

echo "responses: $fails failures"
[ $fails = 0 ]
