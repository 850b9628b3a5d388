#!/usr/bin/env bash
# Multi-LoRA through the real server on tiny-qwen3 in float32 (issue 22). Adapters are made at test
# time by ../shared/tools/make_lora.py together with their merged checkpoints; a server started on a
# merged checkpoint is the reference for requests with that adapter (identical greedy tokens), and
# the plain base model for requests without one. lora_check.py does the requests:
#   main: --lora-paths a b; lora_path on /generate (one, null, a list over a batch), chat and
#         completions with model "base:adapter" and lora_path, 400s in each API's shape,
#         /v1/models, load / unload under traffic / reload a name with other weights, 32 concurrent
#         requests over 3 adapters and the base, no leaked KV or adapter holds.
#   pool: --max-loras-per-batch 2 --max-loaded-loras 3: the 4th load refused, 4 distinct adapters
#         through 2 slots (evictions), a pinned adapter.
# Without --enable-lora, adapters are refused by name; and the launch lines SGLang refuses. Exit 77 (CTest skip) when the model, the tool or
# curl/python3 with numpy are missing.
set -u
BIN=$1; SHARED=$2
TMP=$(mktemp -d)
. "$(dirname "$0")/server_test_lib.sh"
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; rm -rf $TMP' EXIT
HERE=$(cd "$(dirname "$0")" && pwd)
M=$SHARED/models/tiny-qwen3
MAKE=$SHARED/tools/make_lora.py
[ -d "$M" ] && [ -f "$MAKE" ] || { echo "SKIP: $M or $MAKE absent"; exit 77; }
command -v curl >/dev/null && $PY -c 'import numpy' 2>/dev/null || { echo "SKIP: needs curl and python3 with numpy"; exit 77; }

# a: rank 8, every projection. b: rank 16 rsLoRA (alpha/sqrt(r), as PEFT). c: attention only.
# d: rank 16 on the MLP, loaded later under c's name.
A=$TMP/adapters
mk() { $PY "$MAKE" "$M" "$A/lora-$1" --merged "$A/merged-$1" "${@:2}" >/dev/null || fail "make_lora $1"; }
mk a --rank 8 --alpha 16 --seed 1
mk b --rank 16 --alpha 32 --rslora --seed 2
mk c --rank 8 --alpha 16 --seed 3 --targets q_proj,k_proj,v_proj,o_proj
mk d --rank 16 --alpha 16 --seed 4 --targets gate_proj,up_proj,down_proj
R=$TMP/ref; mkdir -p $R
for n in base a b c d; do
  dir=$A/merged-$n; [ $n = base ] && dir=$M
  start "$dir" || continue
  $PY "$HERE/lora_check.py" reference "$BASE" "$R/$n.json" || fail "reference answers of $n"
  [ $n = base ] && { $PY "$HERE/lora_check.py" disabled "$BASE" || fails=$((fails+$?)); }
  stop
done

SERVED=tiny-qwen3:base  # a served name with a colon is still the base model
if start "$M" --served-model-name "$SERVED" --lora-paths "a=$A/lora-a" "b=$A/lora-b" --max-lora-rank 16; then
  $PY "$HERE/lora_check.py" main "$BASE" "$R" "$SERVED" "$A" || fails=$((fails+$?))
  stop
fi
# The JSON form of --lora-paths, pinned off.
if start "$M" --served-model-name m --max-loras-per-batch 2 --max-loaded-loras 3 --max-lora-rank 16 \
  --lora-paths "{\"lora_name\":\"a\",\"lora_path\":\"$A/lora-a\",\"pinned\":false}" "b=$A/lora-b"; then
  $PY "$HERE/lora_check.py" pool "$BASE" "$R" m "$A" || fails=$((fails+$?))
  stop
fi

# Launch lines refused before serving, the message naming the cause.
refused() {  # refused <what> <pattern> [flags...]
  local what=$1 pattern=$2; shift 2
  if timeout 60 "$BIN" --model-path "$M" --max-total-tokens 65536 --port "$(free_port)" --dtype float32 --skip-server-warmup "$@" \
    >"$TMP/refused.log" 2>&1; then
    fail "$what: the server started"
  elif ! grep -q -- "$pattern" "$TMP/refused.log"; then
    fail "$what: no '$pattern' in: $(tail -2 $TMP/refused.log)"
  fi
}
refused "--enable-lora alone" "--max-lora-rank and --lora-target-modules" --enable-lora
refused "an adapter over --max-lora-rank" "max-lora-rank" --lora-paths "a=$A/lora-b" --max-lora-rank 8
refused "a missing adapter" "nope" --lora-paths "nope=$TMP/nope"
refused "an adapter outside --lora-target-modules" "lora-target-modules" \
  --lora-paths "a=$A/lora-a" --lora-target-modules q_proj v_proj
refused "every slot pinned" "pinned" --max-loras-per-batch 2 --lora-paths \
  "{\"lora_name\":\"a\",\"lora_path\":\"$A/lora-a\",\"pinned\":true}" \
  "{\"lora_name\":\"b\",\"lora_path\":\"$A/lora-b\",\"pinned\":true}"
refused "--max-loaded-loras below --max-loras-per-batch" "max_loaded_loras" \
  --lora-paths "a=$A/lora-a" --max-loaded-loras 4
echo "lora: $fails failures"
[ $fails = 0 ]
