#!/usr/bin/env bash
# Pre-quantized checkpoints through the real server (issue 30): each format written at test time
# by ../shared/tools/quantize_checkpoint.py from tiny-qwen3 (and tiny-qwen3-moe) is served and
# its greedy /generate and chat answers equal a server on its exact float32 twin; the weight
# memory the server reports is the quantized size; a --quantization that contradicts the
# checkpoint stops the server with SGLang's message. Exit 77 (CTest skip) without the models,
# the tool, curl or python3 with numpy.
set -u
BIN=$1; SHARED=$2
TMP=$(mktemp -d)
. "$(dirname "$0")/server_test_lib.sh"
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; rm -rf $TMP' EXIT
Q=$SHARED/tools/quantize_checkpoint.py
[ -d "$SHARED/models/tiny-qwen3" ] && [ -f "$Q" ] || { echo "SKIP: models or $Q absent"; exit 77; }
command -v curl >/dev/null && $PY -c 'import numpy' 2>/dev/null || { echo "SKIP: needs curl and python3 with numpy"; exit 77; }
J='Content-Type: application/json'
answers() {  # the greedy ids of /generate and the text of a chat, one line each
  curl -s "$BASE/generate" -H "$J" -d '{"text": "The capital of France is", "sampling_params": {"temperature": 0, "max_new_tokens": 16, "ignore_eos": true}}' \
    | $PY -c 'import json,sys; print(json.load(sys.stdin)["output_ids"])'
  curl -s "$BASE/v1/chat/completions" -H "$J" -d '{"model": "m", "messages": [{"role": "user", "content": "Name three colours."}], "temperature": 0, "max_tokens": 12}' \
    | $PY -c 'import json,sys; print(json.load(sys.stdin)["choices"][0]["message"]["content"])'
}
weight_mb() { curl -s "$BASE/get_server_info" | $PY -c 'import json,sys; d=json.load(sys.stdin); print(d.get("weight_bytes", d.get("memory_usage", {}).get("weight", 0)))'; }

for spec in "tiny-qwen3 fp8-block" "tiny-qwen3 awq" "tiny-qwen3 gptq-desc-act --group-size 64" "tiny-qwen3-moe awq --group-size 32" "tiny-qwen3-moe fp8-block"; do
  set -- $spec; model=$1; fmt=$2; shift 2
  out=$TMP/$model-$fmt
  $PY "$Q" "$SHARED/models/$model" "$out" --format "$fmt" "$@" --twin "$out-twin" >/dev/null || { fail "quantize $model $fmt"; continue; }
  start "$out-twin" --served-model-name m || continue
  want=$(answers); stop
  start "$out" --served-model-name m || continue
  got=$(answers)
  grep -q "Model: .*weights" "$TMP/server.log" || fail "$model $fmt: no weight size in the log"
  stop
  [ "$got" = "$want" ] || fail "$model $fmt: answers differ from the float twin: '$got' vs '$want'"
  [ -n "$(echo "$want" | head -1 | tr -d '[]')" ] || fail "$model $fmt: empty answer"
done

# A --quantization that contradicts the checkpoint: SGLang's error, non-zero exit.
out=$TMP/tiny-qwen3-fp8-block
if timeout 60 "$BIN" --model-path "$out" --max-total-tokens 65536 --port "$(free_port)" --quantization awq >"$TMP/refused.log" 2>&1; then
  fail "--quantization awq on an fp8 checkpoint started"
elif ! grep -q "does not match the quantization method" "$TMP/refused.log"; then
  fail "--quantization mismatch: $(tail -2 $TMP/refused.log)"
fi
echo "quantized: $fails failures"
[ $fails = 0 ]
