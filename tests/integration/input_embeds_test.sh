#!/usr/bin/env bash
# input_embeds (SGLang's prompt given as embeddings) on the real sglcpp-server (curl + jq + numpy):
#  - /generate with input_embeds = the embedding-table rows of a prompt's ids answers exactly as
#    /generate with those input_ids (greedy output_ids, prompt_tokens), single and batched, on
#    tiny-qwen3, on tiny-gemma2 (whose √hidden embedding scale applies to given rows too) and on
#    two tensor-parallel CPU ranks (the rows travel to the follower rank).
#  - Two different embedding prompts of the same length, one after the other, each get their own
#    answer: their placeholder ids must never share the prefix cache.
#  - /generate_from_file: the same rows uploaded as a multipart file, SGLang's fixed greedy 512
#    tokens, equal to input_ids with max_new_tokens 512.
#  - 400s in SGLang's shape: a row of the wrong width, a non-number, an empty list, a body that is
#    not multipart, a form without its `file` field, input_embeds in a session turn.
# Exit 77 (CTest skip) when the models or curl/jq/numpy are missing.
set -u
BIN=$1; SHARED=$2
. "$(dirname "$0")/server_test_lib.sh"
shared_script_setup "$SHARED/models/tiny-qwen3" "$SHARED/models/tiny-gemma2"
$PY -c 'import numpy' 2>/dev/null || { echo "SKIP: needs python3 with numpy"; exit 77; }

# The embedding-table rows of the ids in $2 (a JSON list, or a list of lists) of model dir $1.
embeds() {
  $PY - "$1" "$2" <<'PY'
import json, struct, sys, numpy as np
path, ids = sys.argv[1] + "/model.safetensors", json.loads(sys.argv[2])
with open(path, "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    meta = json.loads(f.read(n))["model.embed_tokens.weight"]
    f.seek(8 + n + meta["data_offsets"][0])
    raw = np.frombuffer(f.read(meta["data_offsets"][1] - meta["data_offsets"][0]), dtype=np.uint16)
table = (raw.astype(np.uint32) << 16).view(np.float32).reshape(meta["shape"])  # bf16 -> f32, exact
rows = lambda p: [[float(v) for v in table[i]] for i in p]
print(json.dumps([rows(p) for p in ids] if isinstance(ids[0], list) else rows(ids)))
PY
}
gen() { curl -s "$BASE/generate" -H "$J" -d "$1"; }
ids_body() { jq -nc --argjson ids "$1" --argjson n "${2:-24}" '{input_ids: $ids, sampling_params: {temperature: 0, max_new_tokens: $n, ignore_eos: true}}'; }
emb_body() { jq -nc --slurpfile e "$1" --argjson n "${2:-24}" '{input_embeds: $e[0], sampling_params: {temperature: 0, max_new_tokens: $n, ignore_eos: true}}'; }
expect_400() {  # body, needle
  local code; code=$(curl -s -o $TMP/err -w '%{http_code}' "$BASE/generate" -H "$J" -d "$1")
  [ "$code" = 400 ] && jq -e --arg m "$2" '.error.message|contains($m)' $TMP/err >/dev/null || fail "want 400 with '$2': $code $(head -c 300 $TMP/err)"
}

P1='[9707, 11, 1879, 0, 358, 1079, 264, 3364, 911]'
P2='[785, 6722, 315, 9625, 374, 12095, 13, 1084, 374]'  # same length, other tokens
check_model() {  # model name, extra server flags...
  local m=$1; shift
  start "$SHARED/models/$m" "$@" || return
  embeds "$SHARED/models/$m" "$P1" >$TMP/e1.json
  embeds "$SHARED/models/$m" "$P2" >$TMP/e2.json
  embeds "$SHARED/models/$m" "[$P1, $P2]" >$TMP/eb.json
  want1=$(gen "$(ids_body "$P1")" | jq -c '[.output_ids, .meta_info.prompt_tokens]')
  want2=$(gen "$(ids_body "$P2")" | jq -c '[.output_ids, .meta_info.prompt_tokens]')
  [ "$want1" != "$want2" ] || fail "$m: the two prompts answer alike; the cache check would prove nothing"
  got1=$(gen "$(emb_body $TMP/e1.json)" | jq -c '[.output_ids, .meta_info.prompt_tokens]')
  got2=$(gen "$(emb_body $TMP/e2.json)" | jq -c '[.output_ids, .meta_info.prompt_tokens]')
  [ "$got1" = "$want1" ] || fail "$m $*: input_embeds answers $got1, input_ids $want1"
  [ "$got2" = "$want2" ] || fail "$m $*: second embeddings prompt answers $got2, want $want2 (prefix cache shared?)"
  gotb=$(gen "$(emb_body $TMP/eb.json)" | jq -c '[.[] | [.output_ids, .meta_info.prompt_tokens]]')
  [ "$gotb" = "[$want1,$want2]" ] || fail "$m $*: batched input_embeds answers $gotb"
  echo "  $m $*: ok ($got1)"
}

echo "[${SECONDS}s] tiny-qwen3"
check_model tiny-qwen3 --dtype bfloat16
# /generate_from_file: SGLang's fixed sampling (greedy, 512 new tokens).
want=$(gen "$(jq -nc --argjson ids "$P1" '{input_ids: $ids, sampling_params: {temperature: 0, max_new_tokens: 512}}')" | jq -c .output_ids)
code=$(curl -s -o $TMP/ff -w '%{http_code}' "$BASE/generate_from_file" -F "file=@$TMP/e1.json;type=application/json")
[ "$code" = 200 ] && [ "$(jq -c .output_ids $TMP/ff)" = "$want" ] || fail "generate_from_file: $code $(head -c 300 $TMP/ff)"
[ "$(jq -r .meta_info.prompt_tokens $TMP/ff)" = 9 ] || fail "generate_from_file: prompt_tokens $(jq -c .meta_info $TMP/ff)"
code=$(curl -s -o $TMP/ff -w '%{http_code}' "$BASE/generate_from_file" -F "file=@$TMP/eb.json")
[ "$code" = 200 ] && [ "$(jq -r 'type' $TMP/ff)" = array ] && [ "$(jq -c '.[0].output_ids' $TMP/ff)" = "$want" ] || fail "generate_from_file batch: $code $(head -c 300 $TMP/ff)"
code=$(curl -s -o $TMP/ff -w '%{http_code}' "$BASE/generate_from_file" -H "$J" -d @$TMP/e1.json)
[ "$code" = 400 ] && grep -q "multipart/form-data" $TMP/ff || fail "generate_from_file with a JSON body: $code $(head -c 300 $TMP/ff)"
code=$(curl -s -o $TMP/ff -w '%{http_code}' "$BASE/generate_from_file" -F "other=@$TMP/e1.json")
[ "$code" = 400 ] && grep -q "'file'" $TMP/ff || fail "generate_from_file without its file field: $code $(head -c 300 $TMP/ff)"
echo '[[1.0, 2.0]]' >$TMP/narrow.json
code=$(curl -s -o $TMP/ff -w '%{http_code}' "$BASE/generate_from_file" -F "file=@$TMP/narrow.json")
[ "$code" = 400 ] && grep -q "hidden size is 128" $TMP/ff || fail "generate_from_file narrow rows: $code $(head -c 300 $TMP/ff)"
echo "[${SECONDS}s] errors"
expect_400 '{"input_embeds": [[1.0, 2.0]]}' "hidden size is 128"
expect_400 '{"input_embeds": []}' "cannot be empty"
expect_400 "$(jq -nc '{input_embeds: [[range(0;127) | 0.5] + ["x"]]}')" "input_embeds.0"
sid=$(curl -s "$BASE/open_session" -H "$J" -d '{"capacity_of_str_len": 1000}' | jq -r .)
expect_400 "$(jq -nc --slurpfile e $TMP/e1.json --arg s "$sid" '{input_embeds: $e[0], session_params: {id: $s}}')" "session"
# Text wins over input_embeds, as in SGLang.
r=$(curl -s "$BASE/generate" -H "$J" -d "$(jq -nc --slurpfile e $TMP/e1.json '{input_ids: [9707, 11], input_embeds: $e[0], sampling_params: {max_new_tokens: 1}}')" | jq .meta_info.prompt_tokens)
[ "$r" = 2 ] || fail "input_ids with input_embeds: prompt_tokens $r, want 2 (ids win)"
stop

echo "[${SECONDS}s] tiny-gemma2 (embedding scale)"
check_model tiny-gemma2 --dtype bfloat16
stop
echo "[${SECONDS}s] tiny-qwen3 on two tensor-parallel ranks"
check_model tiny-qwen3 --dtype bfloat16 --tp-size 2
stop
[ $fails = 0 ] && echo "PASS (${SECONDS}s)" || { cat $TMP/server.log | tail -20; exit 1; }
