#!/usr/bin/env bash
# Structured output end to end on the real sglcpp-server and ../shared/models/tiny-qwen3 (which
# knows nothing of JSON: every well-formed answer below is the grammar's doing). json_schema,
# regex and ebnf on /generate, /v1/completions and chat (response_format), forced tool calls
# (tool_choice "required" / named, non-streamed and streamed), 400s for bad grammars, and
# constrained and free requests side by side. Exit 77 (CTest skip) when the model or curl/jq is
# missing.
set -u
BIN=$1; MODEL=$2; NODE_DIR=${3:-}
[ -d "$MODEL" ] || { echo "SKIP: $MODEL absent"; exit 77; }
command -v curl >/dev/null && command -v jq >/dev/null || { echo "SKIP: needs curl and jq"; exit 77; }
LOG=$(mktemp); OUT=$(mktemp -d); fails=0
fail() { echo "FAIL: $1"; fails=$((fails+1)); }
J='Content-Type: application/json'
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
B=http://127.0.0.1:$PORT
"$BIN" --model-path "$MODEL" --max-total-tokens 65536 --port "$PORT" --skip-server-warmup >"$LOG" 2>&1 &
SRV=$!
trap 'kill $SRV 2>/dev/null; rm -rf $LOG $OUT' EXIT
for _ in $(seq 1 240); do curl -sf $B/health >/dev/null && break; sleep 0.25; done
curl -sf $B/health >/dev/null || { echo "server did not start:"; cat "$LOG"; exit 1; }
gen() { curl -s $B/generate -H "$J" -d "$1"; }

# json_schema on /generate: greedy and sampled answers parse and follow the schema.
SCHEMA='{"type":"object","properties":{"city":{"type":"string","maxLength":10},"population":{"type":"integer"},"capital":{"type":"boolean"},"size":{"enum":["small","big"]}},"required":["city","population","capital","size"]}'
SCHEMA_STR=$(jq -Rn --arg s "$SCHEMA" '$s')
for t in 0 1; do
  r=$(gen '{"text":"Describe Paris as JSON:","sampling_params":{"max_new_tokens":300,"temperature":'$t',"json_schema":'"$SCHEMA_STR"'}}')
  echo "$r" | jq -e '.meta_info.finish_reason.type=="stop"' >/dev/null || fail "json_schema T=$t did not finish: $r"
  echo "$r" | jq -e '.text | fromjson | (.city|type)=="string" and (.city|length)<=10 and (.population|type)=="number"
      and (.population|floor)==.population and (.capital|type)=="boolean" and (.size=="small" or .size=="big")
      and (keys|length)==4' >/dev/null || fail "json_schema T=$t: $r"
done

# regex: the answer matches, and ends there (EOS once nothing else may follow).
r=$(gen '{"text":"The capital of France is","sampling_params":{"max_new_tokens":40,"temperature":0,"regex":"(Paris|London|Rome), population [0-9]{3,7}\\."}}')
echo "$r" | jq -e '.text | test("^(Paris|London|Rome), population [0-9]{3,7}\\.$")' >/dev/null || fail "regex: $r"
echo "$r" | jq -e '.meta_info.finish_reason.type=="stop"' >/dev/null || fail "regex did not stop: $r"

# ebnf: a recursive grammar.
EBNF=$(jq -Rn --arg s $'root ::= "(" list ")"\nlist ::= item ("," item){0,3}\nitem ::= [a-z]{1,5} | "(" list ")"' '$s')
r=$(gen '{"text":"A nested list:","sampling_params":{"max_new_tokens":120,"temperature":0,"ebnf":'"$EBNF"'}}')
echo "$r" | jq -e '.meta_info.finish_reason.type=="stop" and (.text | test("^\\([a-z(),]+\\)$"))' >/dev/null || fail "ebnf: $r"

# Streaming gives the same constrained text as the non-streamed request.
body='{"text":"The capital of France is","sampling_params":{"max_new_tokens":40,"temperature":0,"regex":"[A-Z][a-z]{2,8} (is|was) (big|small)!"},"stream":true}'
streamed=$(curl -sN $B/generate -H "$J" -d "$body" | sed -n 's/^data: \({.*\)$/\1/p' | tail -1 | jq -r .text)
plain=$(gen "${body/,\"stream\":true/}" | jq -r .text)
[ "$streamed" = "$plain" ] && [[ "$plain" =~ ^[A-Z][a-z]{2,8}\ (is|was)\ (big|small)!$ ]] || fail "stream regex: '$streamed' vs '$plain'"

# /v1/completions takes SGLang's regex extra; chat takes response_format.
r=$(curl -s $B/v1/completions -H "$J" -d '{"model":"m","prompt":"Answer:","max_tokens":20,"temperature":0,"regex":"(yes|no)"}')
echo "$r" | jq -e '.choices[0].text=="yes" or .choices[0].text=="no"' >/dev/null || fail "completions regex: $r"
MSG='[{"role":"user","content":"Describe Paris."}]'
r=$(curl -s $B/v1/chat/completions -H "$J" -d '{"model":"m","messages":'"$MSG"',"max_tokens":300,"temperature":0,"response_format":{"type":"json_schema","json_schema":{"name":"city","schema":'"$SCHEMA"'}}}')
echo "$r" | jq -e '.choices[0].message.content | fromjson | (.size=="small" or .size=="big") and (.capital|type)=="boolean"' >/dev/null \
  || fail "chat response_format json_schema: $r"
r=$(curl -s $B/v1/chat/completions -H "$J" -d '{"model":"m","messages":'"$MSG"',"max_tokens":300,"temperature":0,"response_format":{"type":"json_object"}}')
echo "$r" | jq -e '(.choices[0].finish_reason=="length") or (.choices[0].message.content | fromjson | type=="object")' >/dev/null \
  || fail "chat json_object: $r"

# Forced tool calls: the answer is decoded as SGLang's JSON array of calls and comes back as tool_calls.
TOOLS='[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string","maxLength":12},"unit":{"type":"string","enum":["c","f"]}},"required":["city","unit"]}}},{"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{"zone":{"type":"string","enum":["utc","local"]}},"required":["zone"]}}}]'
for choice in '"required"' '{"type":"function","function":{"name":"get_time"}}'; do
  body='{"model":"m","messages":[{"role":"user","content":"Weather in Paris?"}],"tools":'"$TOOLS"',"tool_choice":'"$choice"',"parallel_tool_calls":false,"max_tokens":400,"temperature":0}'
  r=$(curl -s $B/v1/chat/completions -H "$J" -d "$body")
  echo "$r" | jq -e '.choices[0] | .finish_reason=="tool_calls" and .message.content==null and (.message.tool_calls|length)==1
      and (.message.tool_calls[0].id|startswith("call_")) and .message.tool_calls[0].type=="function"' >/dev/null || fail "forced $choice: $r"
  name=$(echo "$r" | jq -r '.choices[0].message.tool_calls[0].function.name')
  args=$(echo "$r" | jq -r '.choices[0].message.tool_calls[0].function.arguments')
  case "$name" in
    get_weather) echo "$args" | jq -e '(.unit=="c" or .unit=="f") and (.city|type)=="string"' >/dev/null || fail "weather args: $args";;
    get_time) echo "$args" | jq -e '.zone=="utc" or .zone=="local"' >/dev/null || fail "time args: $args";;
    *) fail "forced $choice: unknown function '$name'";;
  esac
  [ "$choice" = '"required"' ] || [ "$name" = get_time ] || fail "named tool_choice answered with $name"
  # Streamed: the deltas reassemble to the same call.
  s=$(curl -sN $B/v1/chat/completions -H "$J" -d "${body%\}},\"stream\":true}" | sed -n 's/^data: \({.*\)$/\1/p' | jq -s .)
  echo "$s" | jq -e --arg n "$name" --argjson a "$args" '[.[].choices[]?.delta.tool_calls // empty | .[]] as $d
      | ($d|map(.function.name // empty)|join(""))==$n and ($d|map(.function.arguments // empty)|join("")|fromjson)==$a
      and ([.[].choices[]?.finish_reason // empty]|last)=="tool_calls"' >/dev/null || fail "forced $choice stream: $(echo "$s" | jq -c '[.[].choices[]?.delta]')"
done

# Bad grammars are 400s in each API's error shape; the server keeps serving.
code() { curl -s -o $OUT/body -w '%{http_code}' "$@"; }
[ "$(code $B/generate -H "$J" -d '{"text":"x","sampling_params":{"regex":"(unclosed"}}')" = 400 ] && grep -q 'Invalid grammar request' $OUT/body \
  || fail "bad regex: $(cat $OUT/body)"
[ "$(code $B/generate -H "$J" -d '{"text":"x","sampling_params":{"json_schema":"{\"type\":\"sphere\"}"}}')" = 400 ] || fail "bad schema: $(cat $OUT/body)"
[ "$(code $B/generate -H "$J" -d '{"text":"x","sampling_params":{"ebnf":"start ::= \"a\""}}')" = 400 ] || fail "ebnf without root: $(cat $OUT/body)"
[ "$(code $B/generate -H "$J" -d '{"text":"x","sampling_params":{"regex":"a","ebnf":"root ::= \"a\""}}')" = 400 ] \
  && grep -q 'Only one of regex, json_schema, or ebnf' $OUT/body || fail "two grammars: $(cat $OUT/body)"
[ "$(code $B/v1/chat/completions -H "$J" -d '{"model":"m","messages":'"$MSG"',"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"array","minItems":3,"maxItems":1}}}}')" = 400 ] \
  && jq -e '.object=="error" and .code==400' $OUT/body >/dev/null || fail "bad response_format: $(cat $OUT/body)"

# Constrained and free requests side by side: every constrained answer valid, the free ones unchanged.
free_ref=$(gen '{"text":"Once upon a time","sampling_params":{"max_new_tokens":24,"temperature":0}}' | jq -r .text)
for i in $(seq 1 6); do
  gen '{"text":"Item '$i':","sampling_params":{"max_new_tokens":60,"temperature":1,"sampling_seed":'$i',"regex":"[0-9]{1,3}(\\.[0-9])? (kg|g)"}}' >$OUT/c$i &
  gen '{"text":"Once upon a time","sampling_params":{"max_new_tokens":24,"temperature":0}}' >$OUT/f$i &
done
wait $(jobs -p | grep -v "^$SRV$") 2>/dev/null
for i in $(seq 1 6); do
  jq -e '.text | test("^[0-9]{1,3}(\\.[0-9])? (kg|g)$")' $OUT/c$i >/dev/null || fail "concurrent constrained $i: $(cat $OUT/c$i)"
  [ "$(jq -r .text $OUT/f$i)" = "$free_ref" ] || fail "concurrent free $i changed: $(cat $OUT/f$i)"
done
# The official OpenAI Node SDK on the same server (skipped when tests/node has no node_modules).
if [ -n "$NODE_DIR" ] && [ -d "$NODE_DIR/node_modules/openai" ] && command -v node >/dev/null; then
  node "$(cd "$(dirname "$0")" && pwd)/structured_output_sdk_check.mjs" "$B" "$NODE_DIR" || fail "OpenAI SDK check"
else
  echo "note: OpenAI SDK part skipped (npm install in tests/node)"
fi
curl -sf $B/health >/dev/null || fail "server unhealthy after the run"
echo "structured output: $fails failure(s)"
[ $fails -eq 0 ]
