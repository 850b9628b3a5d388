#!/usr/bin/env bash
# The official OpenAI Node SDK against the real server (tests/node/node_modules/openai).
set -u
BIN=$1; MODEL=$2; NODE_DIR=$3
[ -d "$MODEL" ] || { echo "SKIP: $MODEL absent"; exit 77; }
[ -d "$NODE_DIR/node_modules/openai" ] || { echo "SKIP: npm install in tests/node first"; exit 77; }
command -v node >/dev/null || { echo "SKIP: no node"; exit 77; }
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
LOG=$(mktemp)
"$BIN" --model-path "$MODEL" --max-total-tokens 65536 --port "$PORT" --api-key sk-test --skip-server-warmup >"$LOG" 2>&1 &
SRV=$!
trap 'kill $SRV 2>/dev/null; rm -f $LOG' EXIT
for _ in $(seq 1 240); do curl -sf http://127.0.0.1:$PORT/health >/dev/null && break; sleep 0.5; done
node "$(cd "$(dirname "$0")" && pwd)/openai_sdk_check.mjs" "http://127.0.0.1:$PORT" sk-test "$NODE_DIR"
