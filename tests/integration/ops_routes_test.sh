#!/usr/bin/env bash
# SGLang's RL and operations routes on the real sglcpp-server (curl + jq), with SGLang's request
# shapes and response keys:
#  - /tokenize, /v1/tokenize, /detokenize, /v1/detokenize: a round trip, list prompts, special
#    tokens, 400s for bad bodies and ids outside the vocabulary;
#  - /separate_reasoning (qwen3) and /parse_function_call (qwen25, hermes);
#  - /get_weight_version and /weight_version, set through /update_weights_from_disk's weight_version;
#  - /configure_logging switching the request log on, its level, and off;
#  - /invocations (SageMaker) answering as /v1/chat/completions does.
# Exit 77 (CTest skip) when the model or curl/jq/python3 is missing.
set -u
BIN=$1; MODEL=$2
. "$(dirname "$0")/server_test_lib.sh"
serve_whole_script --skip-server-warmup
post() { curl -s $A$1 -H "$J" -d "$2"; }
# "STATUS BODY" of a POST.
post_status() { curl -s -o $TMP/body -w '%{http_code}' $A$1 -H "$J" -d "$2"; }
# A 400 in the flat OpenAI error shape whose message contains $3.
expect_400() {
  local code; code=$(post_status "$1" "$2")
  [ "$code" = 400 ] || { fail "$1 $2: status $code, want 400: $(cat $TMP/body)"; return; }
  jq -e --arg m "$3" '.object=="error" and .code==400 and (.message|contains($m))' $TMP/body >/dev/null \
    || fail "$1 $2: error body $(cat $TMP/body)"
}
CTX=$(curl -s $A/get_server_info | jq .context_length)

# --- tokenize / detokenize
echo "[${SECONDS}s] tokenize"
for p in /tokenize /v1/tokenize; do
  r=$(post $p '{"model":"m","prompt":"Hello world, tokenize me."}')
  echo "$r" | jq -e --argjson ctx "$CTX" '(.tokens|length)>0 and all(.tokens[]; type=="number") and
      .count==(.tokens|length) and .max_model_len==$ctx and (keys==["count","max_model_len","tokens"])' >/dev/null \
    || fail "$p single: $r"
  ids=$(echo "$r" | jq -c .tokens)
  for d in /detokenize /v1/detokenize; do
    t=$(post $d "{\"tokens\":$ids}")
    echo "$t" | jq -e '.text=="Hello world, tokenize me."' >/dev/null || fail "$d round trip: $t"
  done
done
r=$(post /tokenize '{"prompt":["one","two three"],"add_special_tokens":false}')
echo "$r" | jq -e '(.tokens|length)==2 and (.tokens[0]|type)=="array" and .count==[(.tokens[0]|length),(.tokens[1]|length)]' \
  >/dev/null || fail "list prompt: $r"
t=$(post /detokenize "{\"tokens\":$(echo "$r" | jq -c .tokens)}")
echo "$t" | jq -e '.text==["one","two three"]' >/dev/null || fail "list detokenize: $t"
[ "$(post /detokenize '{"tokens":[]}' | jq -c .)" = '{"text":""}' ] || fail "empty detokenize"
# Special tokens: skipped by default, kept with skip_special_tokens false.
sp=$(post /tokenize '{"prompt":"<|im_start|>user"}' | jq -c .tokens)
t=$(post /detokenize "{\"tokens\":$sp}"); echo "$t" | jq -e '.text=="user"' >/dev/null || fail "skip specials: $t"
t=$(post /detokenize "{\"tokens\":$sp,\"skip_special_tokens\":false}")
echo "$t" | jq -e '.text=="<|im_start|>user"' >/dev/null || fail "keep specials: $t"
expect_400 /tokenize '{"model":"m"}' "prompt: Field required"
expect_400 /tokenize '{"prompt":5}' "prompt"
expect_400 /v1/tokenize '{"prompt":["a",1]}' "prompt"
expect_400 /detokenize '{"tokens":[1,"a"]}' "tokens"
expect_400 /detokenize '{"tokens":[999999999]}' "999999999"
expect_400 /v1/detokenize '{"tokens":[[1],[-5]]}' "-5"
code=$(curl -s -o $TMP/body -w '%{http_code}' $A/v1/tokenize -H 'Content-Type: text/plain' -d '{"prompt":"x"}')
[ "$code" = 400 ] && grep -q "Unsupported Media Type" $TMP/body || fail "/v1/tokenize media type: $code $(cat $TMP/body)"

# --- separate_reasoning / parse_function_call
echo "[${SECONDS}s] parsers"
r=$(post /separate_reasoning '{"text":"<think>abc</think>xyz","reasoning_parser":"qwen3"}')
[ "$(echo "$r" | jq -c .)" = '{"reasoning_text":"abc","text":"xyz"}' ] || fail "separate_reasoning: $r"
r=$(post /separate_reasoning '{"text":"no block here","reasoning_parser":"qwen3"}')
echo "$r" | jq -e '.reasoning_text=="" and .text=="no block here"' >/dev/null || fail "separate_reasoning no block: $r"
expect_400 /separate_reasoning '{"text":"x","reasoning_parser":"nope"}' "nope"
expect_400 /separate_reasoning '{"text":"x"}' "reasoning_parser: Field required"
TOOLS='[{"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{}}}},{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]'
for parser in qwen25 hermes; do
  body=$(jq -nc --arg p $parser --argjson tools "$TOOLS" \
    '{text: "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>", tools: $tools, tool_call_parser: $p}')
  r=$(post /parse_function_call "$body")
  echo "$r" | jq -e '.normal_text=="Let me check." and (.calls|length)==1 and .calls[0].tool_index==1
      and .calls[0].name=="get_weather" and (.calls[0].parameters|type)=="string"
      and (.calls[0].parameters|fromjson)=={"city":"Paris"} and (.calls[0]|keys)==["name","parameters","tool_index"]' \
    >/dev/null || fail "parse_function_call $parser: $r"
done
expect_400 /parse_function_call '{"text":"x","tools":[],"tool_call_parser":"nope"}' "nope"
expect_400 /parse_function_call '{"text":"x","tools":[{"type":"function"}],"tool_call_parser":"qwen25"}' "tools[0]"

# --- weight version
echo "[${SECONDS}s] weight version"
[ "$(curl -s $A/get_weight_version | jq -c .)" = '{"weight_version":"default"}' ] || fail "initial weight version"
r=$(post /update_weights_from_disk "{\"model_path\":\"$MODEL\",\"weight_version\":\"v2\"}")
echo "$r" | jq -e '.success==true' >/dev/null || fail "update_weights_from_disk: $r"
for p in /get_weight_version /weight_version; do
  v=$(curl -s $A$p | jq -r .weight_version); [ "$v" = v2 ] || fail "$p after update: $v"
done
v=$(curl -s $A/get_model_info | jq -r .weight_version); [ "$v" = v2 ] || fail "get_model_info weight_version: $v"
# A failed update leaves the version alone; one without weight_version keeps it too.
code=$(post_status /update_weights_from_disk '{"model_path":"/nonexistent/model","weight_version":"v3"}')
[ "$code" = 400 ] || fail "bad update: $code $(cat $TMP/body)"
post /update_weights_from_disk "{\"model_path\":\"$MODEL\"}" >/dev/null
v=$(curl -s $A/get_weight_version | jq -r .weight_version); [ "$v" = v2 ] || fail "version after failed/untagged update: $v"
code=$(post_status /update_weights_from_disk "{\"model_path\":\"$MODEL\",\"weight_version\":3}")
[ "$code" = 400 ] || fail "non-string weight_version: $code $(cat $TMP/body)"

# --- configure_logging
echo "[${SECONDS}s] configure_logging"
gen() { post /generate "{\"text\":\"$1\",\"sampling_params\":{\"max_new_tokens\":1}}" >/dev/null; }
code=$(curl -s -o $TMP/body -w '%{http_code}' $A/configure_logging)
[ "$code" = 200 ] && [ ! -s $TMP/body ] || fail "GET configure_logging: $code $(cat $TMP/body)"
gen MARKER_OFF
code=$(post_status /configure_logging '{"log_requests":true,"log_requests_level":0,"dump_requests_folder":"","dump_requests_threshold":1000}')
[ "$code" = 200 ] && [ ! -s $TMP/body ] || fail "POST configure_logging: $code $(cat $TMP/body)"
gen MARKER_LEVEL0
post /configure_logging '{"log_requests_level":3}' >/dev/null
gen MARKER_LEVEL3
post /configure_logging '{"log_requests":false}' >/dev/null
gen MARKER_OFF_AGAIN
sleep 0.2
grep -q 'POST /generate body: {"sampling_params"\|POST /generate body: {}' $TMP/log || fail "level 0 body line missing"
grep -q 'MARKER_LEVEL0' $TMP/log && fail "level 0 logged the prompt"
grep -q 'POST /generate body: .*MARKER_LEVEL3' $TMP/log || fail "level 3 prompt not logged"
grep -q 'MARKER_OFF' $TMP/log && fail "prompt logged while log_requests off"
expect_400 /configure_logging '{"log_requests":"yes"}' "log_requests"

# --- invocations: SageMaker's chat completions
echo "[${SECONDS}s] invocations"
CHAT='{"model":"m","messages":[{"role":"user","content":"Say hi"}],"max_tokens":8,"temperature":0}'
c=$(post /v1/chat/completions "$CHAT")
i=$(curl -s $A/invocations -H 'Content-Type: text/plain' -d "$CHAT")
echo "$i" | jq -e '.object=="chat.completion" and .choices[0].message.role=="assistant" and (.usage.completion_tokens>0)' \
  >/dev/null || fail "invocations shape: $i"
[ "$(echo "$i" | jq -c '[.choices[0].message.content, .choices[0].finish_reason, .usage]')" = \
  "$(echo "$c" | jq -c '[.choices[0].message.content, .choices[0].finish_reason, .usage]')" ] \
  || fail "invocations differs from chat: $i vs $c"
code=$(post_status /invocations '{"model":"m"}')
[ "$code" = 400 ] && jq -e '.object=="error"' $TMP/body >/dev/null || fail "invocations bad body: $code $(cat $TMP/body)"

[ $fails -eq 0 ] && echo "ops routes: all passed" || { echo "$fails failure(s)"; tail -20 $TMP/log; }
[ $fails -eq 0 ]
