# Shared by the integration scripts that start sglcpp-server themselves: python3 (Debian's, with
# numpy, when present), a free port, and start/stop of one server whose log is $TMP/server.log.
# Callers set BIN and TMP and define nothing else of these names; fail() counts into $fails.
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3
fails=0; PID=""
free_port() { $PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
fail() { echo "FAIL: $1"; fails=$((fails+1)); }
start() {  # start <model dir> [flags...]: sets BASE and PID (float32, no warm-up)
  local m=$1; shift
  local port; port=$(free_port); BASE=http://127.0.0.1:$port
  "$BIN" --model-path "$m" --max-total-tokens 65536 --port "$port" --dtype float32 --skip-server-warmup "$@" >"$TMP/server.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 240); do curl -sf "$BASE/health" >/dev/null && return 0; sleep 0.25; done
  fail "$(basename "$m") $*: server did not start: $(tail -3 $TMP/server.log)"; stop; return 1
}
stop() { kill $PID 2>/dev/null; wait $PID 2>/dev/null; PID=""; }

# The scripts that run one server for their whole length on MODEL (its own dtype): checks their
# tools, sets A (its URL), SRV, TMP, J, the trap, and waits for /health; flags go to the server.
# Exit 77 (CTest skip) without the model or curl/jq/python3; 1 when the server does not come up.
serve_whole_script() {
  [ -d "$MODEL" ] || { echo "SKIP: $MODEL absent"; exit 77; }
  for t in curl jq python3; do command -v $t >/dev/null || { echo "SKIP: needs $t"; exit 77; }; done
  local port; port=$(free_port)
  A=http://127.0.0.1:$port; TMP=$(mktemp -d); SRV=
  trap 'kill $SRV 2>/dev/null; rm -rf $TMP' EXIT
  J='Content-Type: application/json'
  "$BIN" --model-path "$MODEL" --max-total-tokens 65536 --port $port "$@" >$TMP/log 2>&1 &
  SRV=$!
  for _ in $(seq 1 240); do curl -sf $A/health >/dev/null && break; sleep 0.25; done
  curl -sf $A/health >/dev/null || { cat $TMP/log; echo "FAIL: server not healthy"; exit 1; }
}

# The scripts that start servers on ../shared models themselves (start/stop): sets TMP, J and the
# trap; exit 77 (CTest skip) without curl/jq or without the models named (../shared paths).
shared_script_setup() {
  TMP=$(mktemp -d); J='Content-Type: application/json'
  trap 'stop; rm -rf $TMP' EXIT
  for t in curl jq; do command -v $t >/dev/null || { echo "SKIP: needs $t"; exit 77; }; done
  for m in "$@"; do [ -d "$m" ] || { echo "SKIP: $m absent"; exit 77; }; done
}
