#!/usr/bin/env bash
# Overload (issue 25): thousands of idle connections against --max-connections, slow senders and
# readers against the socket timeouts, and recovery (tests/integration/overload_check.py). The
# queue-full 503 is tested by server_load_test.sh.
# Usage: overload_test.sh <sglcpp-server> <model dir>. Exit 77 (skip) without the model.
set -uo pipefail
BIN=$1 MODEL=$2
[ -d "$MODEL" ] || { echo "SKIP: $MODEL absent"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: needs curl"; exit 77; }
ulimit -n 4096 2>/dev/null || true
TMP=$(mktemp -d)
. "$(dirname "$0")/server_test_lib.sh"
trap 'stop; rm -rf $TMP' EXIT
start "$MODEL" --max-connections 100 --http-read-timeout 2 --http-idle-timeout 30 --http-write-timeout 2 || exit 1
$PY "$(dirname "$0")/overload_check.py" "$BASE" "$PID" 100 || fails=$((fails + 1))
kill -0 $PID 2>/dev/null || fail "the server died: $(tail -5 $TMP/server.log)"
exit $((fails > 0))
