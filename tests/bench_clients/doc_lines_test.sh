#!/usr/bin/env bash
# SGLang-JAX's documented bench command lines against a server on tiny-qwen3: doc_lines_test.py.
# Exit 77 (CTest skip) without the model or python3.
set -u
BIN_DIR=$1; MODEL=$2
[ -d "$MODEL" ] || { echo "SKIP: $MODEL absent"; exit 77; }
MODEL=$(cd "$MODEL" && pwd)  # the served name: the tools run in another directory
command -v python3 >/dev/null && command -v curl >/dev/null || { echo "SKIP: needs python3 and curl"; exit 77; }
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
LOG=$(mktemp)
# One line drives /start_profile: its trace goes to a directory removed afterwards.
export SGLANG_TORCH_PROFILER_DIR; SGLANG_TORCH_PROFILER_DIR=$(mktemp -d)
"$BIN_DIR/sglcpp-server" --model-path "$MODEL" --max-total-tokens 65536 --port "$PORT" >"$LOG" 2>&1 &
SRV=$!
trap 'kill $SRV 2>/dev/null; rm -rf $LOG $SGLANG_TORCH_PROFILER_DIR' EXIT
for _ in $(seq 1 240); do curl -sf http://127.0.0.1:$PORT/health >/dev/null && break; sleep 0.25; done
curl -sf http://127.0.0.1:$PORT/health >/dev/null || { tail -5 $LOG; echo "FAIL: server not healthy"; exit 1; }
python3 "$(dirname "$0")/doc_lines_test.py" "$BIN_DIR" "$MODEL" "http://127.0.0.1:$PORT" \
  "$(dirname "$0")/data/sgljax_bench_doc_lines.tsv"
