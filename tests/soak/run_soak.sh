#!/usr/bin/env bash
# The soak of issue 25 (docs/reliability.md, "Soak"): starts sglcpp-server on tiny-qwen3 with a KV
# pool small enough that the long bursts exhaust it (the scheduler must retract, not fail) and a
# 1 MiB body limit (the oversized bodies), drives it with soak.py, and checks that afterwards the
# pool and radix locks are idle, resident memory is within 5 % of after the warm-up and no file
# descriptor leaked.
#
#   tests/soak/run_soak.sh [N] [CONCURRENCY] [WARMUP]     defaults: 10000 256 400 (the full soak)
#   SGL_BUILD_DIR=build-asan tests/soak/run_soak.sh ...   another build's server
# CTest's soak_short runs 800 requests at concurrency 64. Exit 77 (CTest skip) without the model.
set -uo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
N=${1:-10000} CONC=${2:-256} WARMUP=${3:-400}
# Resident memory may move a few % with the allocator's arenas over a short run: the short variant
# allows 15 % (leaks are LeakSanitizer's job in scripts/sanitize.sh), the full soak 5 %.
RSS_TOL=${SGL_SOAK_RSS_TOLERANCE:-0.05}
BIN=${SGL_SERVER_BIN:-$SRC/${SGL_BUILD_DIR:-build}/bin/sglcpp-server}
MODEL=${SGL_SOAK_MODEL:-$SRC/../shared/models/tiny-qwen3}
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3
[ -d "$MODEL" ] || { echo "SKIP: $MODEL absent"; exit 77; }
[ -x "$BIN" ] || { echo "FAIL: no server binary at $BIN"; exit 1; }

TMP=$(mktemp -d)
PORT=$($PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
# 256 clients plus the soak's own probes: keep well under the open-files limit.
ulimit -n 4096 2>/dev/null || true
"$BIN" --model-path "$MODEL" --port "$PORT" --max-total-tokens 6144 --max-payload-size 1048576 \
  --max-running-requests 64 --tool-call-parser qwen25 --enable-metrics >"$TMP/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 1 480); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.25; done
curl -sf "http://127.0.0.1:$PORT/health" >/dev/null || { tail -20 "$TMP/server.log"; echo "FAIL: server not healthy"; exit 1; }

$PY "$SRC/tests/soak/soak.py" "http://127.0.0.1:$PORT" "$N" "$CONC" --warmup "$WARMUP" --pid "$PID" --rss-tolerance "$RSS_TOL" \
  ${SGL_SOAK_JSON:+--json "$SGL_SOAK_JSON"} ${SGL_SOAK_INSPECT:+--inspect "$SGL_SOAK_INSPECT"}
rc=$?
kill -0 $PID 2>/dev/null || { echo "FAIL: the server died"; tail -30 "$TMP/server.log"; rc=1; }
if grep -qE "AddressSanitizer|runtime error:|ThreadSanitizer" "$TMP/server.log"; then
  echo "FAIL: sanitizer report in the server log"; grep -A30 -E "AddressSanitizer|runtime error:|ThreadSanitizer" "$TMP/server.log" | head -60
  rc=1
fi
[ $rc -eq 0 ] || tail -20 "$TMP/server.log"
exit $rc
