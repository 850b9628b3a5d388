#!/usr/bin/env bash
# The official OpenAI Node SDK reading tool calls and reasoning from the real server, whose answer
# is forced by --test-scripted-output (see tool_calls_sdk_check.mjs).
set -u
BIN=$1; MODEL=$2; NODE_DIR=$3
[ -d "$MODEL" ] || { echo "SKIP: $MODEL absent"; exit 77; }
[ -d "$NODE_DIR/node_modules/openai" ] || { echo "SKIP: npm install in tests/node first"; exit 77; }
command -v node >/dev/null && command -v curl >/dev/null || { echo "SKIP: needs node and curl"; exit 77; }
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
LOG=$(mktemp)
SCRIPT=$'<think>\nThe user wants the weather.\n</think>\n\nLet me check.\n<tool_call>\n<function=get_weather>\n<parameter=city>\nSan Francisco\n</parameter>\n<parameter=days>\n3\n</parameter>\n</function>\n</tool_call>\n<tool_call>\n<function=now>\n</function>\n</tool_call>'
"$BIN" --model-path "$MODEL" --max-total-tokens 65536 --port "$PORT" --skip-server-warmup --tool-call-parser qwen3_coder \
  --reasoning-parser qwen3 --test-scripted-output "$SCRIPT" >"$LOG" 2>&1 &
SRV=$!
trap 'kill $SRV 2>/dev/null; rm -f $LOG' EXIT
for _ in $(seq 1 240); do curl -sf http://127.0.0.1:$PORT/health >/dev/null && break; sleep 0.25; done
node "$(cd "$(dirname "$0")" && pwd)/tool_calls_sdk_check.mjs" "http://127.0.0.1:$PORT" "$NODE_DIR"
