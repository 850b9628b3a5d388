#!/usr/bin/env bash
# deploy/launch-multinode.sh with two nodes on loopback. There is no sshd here, so --ssh names a
# stand-in that runs the remote command with this machine's sh (as sshd would with the login
# shell), ignoring the host: the launcher's own logic is what is tested — flag checks, rank
# assignment, --dist-init-addr, quoting of flags and --env, logs, readiness, and stopping every
# node when one dies, when the launcher gets SIGTERM (gracefully: node 0 first) or SIGKILL.
# Usage: launch_multinode_test.sh <sglcpp-server> <models dir> <launcher>. Exit 77 (CTest skip)
# without the model, curl or python3.
# shellcheck disable=SC2015,SC2016,SC2317  # a || b checks as the other tests; cleanup runs from the trap
set -u
BIN=$1; M=$2/tiny-qwen3; LAUNCH=$3
[ -d "$M" ] || { echo "SKIP: $M absent"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: needs curl"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: needs python3"; exit 77; }
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
TMP=$(mktemp -d); fails=0; KILL_PIDS=""
export TMPDIR=$TMP  # the launcher's run directory, left behind by the SIGKILL case
cleanup() {
  for p in $KILL_PIDS; do kill -9 "$p" 2>/dev/null; done
  # shellcheck disable=SC2013  # pids are words
  for p in $(sed -n 's/^\[launch\] node [0-9]* on .*: pid \([0-9]*\)$/\1/p' "$TMP"/*/node-*.log 2>/dev/null); do
    kill -9 "$p" 2>/dev/null
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $1"; fails=$((fails+1)); }
J='Content-Type: application/json'
REQ='{"text":"def main():","sampling_params":{"max_new_tokens":16,"temperature":0,"ignore_eos":true}}'
text_of() { python3 -c 'import json,sys;print(json.load(sys.stdin)["text"])'; }
# RC = exit status of child $1 within $2 seconds, or "hang" (not in a subshell: wait needs our child)
wait_exit() {
  RC=hang
  for _ in $(seq 1 $(($2 * 10))); do kill -0 "$1" 2>/dev/null || { wait "$1"; RC=$?; return; }; sleep 0.1; done
}
# Server processes of the run whose rendezvous port is $1 (only ours: other tests may run servers).
servers_of() { pgrep -f -- "--dist-init-addr 127.0.0.1:$1" | tr '\n' ' '; }
# pid of node $2's server, as the remote wrapper logged it in run dir $1.
server_pid() { sed -n "s/^\[launch\] node $2 on .*: pid \([0-9]*\)$/\1/p" "$1/node-$2.log" | head -1; }

printf '#!/bin/sh\n# ssh stand-in: the last argument is the remote command\nfor a; do :; done\nexec sh -c "$a"\n' >"$TMP/ssh"
chmod +x "$TMP/ssh"
# Comments, blank lines and user@host, as a real hostfile has.
printf '# two nodes on loopback\n127.0.0.1\n\n  me@127.0.0.1   # node 1\n' >"$TMP/hosts"
COMMON=(--ssh "$TMP/ssh" --server-bin "$BIN" --stop-timeout 10 "$TMP/hosts" --)

# 1. Flags the launcher owns are refused when they contradict the hostfile (no server starts).
"$LAUNCH" "${COMMON[@]}" --model-path "$M" --nnodes 3 >"$TMP/e1.txt" 2>&1
[ $? = 2 ] && grep -q "nnodes '3' but .* lists 2 host" "$TMP/e1.txt" || fail "--nnodes 3 with 2 hosts: $(cat "$TMP/e1.txt")"
"$LAUNCH" "${COMMON[@]}" --model-path "$M" --node-rank=1 >"$TMP/e2.txt" 2>&1
[ $? = 2 ] && grep -q "the launcher sets it per host" "$TMP/e2.txt" || fail "--node-rank: $(cat "$TMP/e2.txt")"

# 2. Reference: one process, tp 1.
P=$(free_port)
"$BIN" --model-path "$M" --max-total-tokens 65536 --port "$P" --skip-server-warmup >"$TMP/ref.log" 2>&1 & REF=$!; KILL_PIDS="$KILL_PIDS $REF"
for _ in $(seq 1 240); do curl -sf "http://127.0.0.1:$P/health" >/dev/null && break; sleep 0.25; done
ref=$(curl -s -m 60 "http://127.0.0.1:$P/generate" -H "$J" -d "$REQ" | text_of)
[ -n "$ref" ] || fail "the single-process reference gave no text: $(tail -2 "$TMP/ref.log")"
kill "$REF"; wait "$REF" 2>/dev/null

# Starts the launcher (run dir $1, extra launcher options up to --, then server flags); LP = its
# pid. Waits until it reports node 0 ready.
start_launcher() {
  local dir=$1; shift
  mkdir -p "$dir"
  "$LAUNCH" --log-dir "$dir" "$@" >"$dir/out.txt" 2>"$dir/err.txt" & LP=$!; KILL_PIDS="$KILL_PIDS $LP"
  for _ in $(seq 1 240); do
    grep -q "node 0 is ready" "$dir/err.txt" && return 0
    kill -0 $LP 2>/dev/null || break
    sleep 0.25
  done
  fail "launcher in $dir never reported node 0 ready: $(cat "$dir/err.txt"; tail -3 "$dir"/node-*.log)"
  return 1
}

# 3. Two nodes: rank assignment, --dist-init-addr from host 0 and --dist-port, a consistent
#    --nnodes accepted, awkward characters in a flag and in --env intact on the far side.
D=$(free_port); P=$(free_port); B=http://127.0.0.1:$P; R=$TMP/a
NAME="tiny 'q' \$x \"y\" *"
if start_launcher "$R" --env "SGL_LAUNCH_MARK=a b'c \$d" --dist-port "$D" "${COMMON[@]}" \
     --model-path "$M" --max-total-tokens 65536 --tp-size 2 --nnodes 2 --port "$P" --dist-timeout 10 --skip-server-warmup \
     --served-model-name "$NAME"; then
  grep -q "node 0 is ready (/health 200): http://127.0.0.1:$P" "$R/err.txt" || fail "ready line: $(cat "$R/err.txt")"
  got=$(curl -s -m 60 "$B/generate" -H "$J" -d "$REQ" | text_of)
  [ "$got" = "$ref" ] || fail "two nodes through the launcher: '$got' != single process '$ref'"
  info=$(curl -s "$B/get_server_info")
  [ "$(echo "$info" | python3 -c 'import json,sys;d=json.load(sys.stdin);print(d["tp_size"],d["nnodes"])')" = "2 2" ] ||
    fail "server_info tp_size/nnodes: $info"
  [ "$(echo "$info" | python3 -c 'import json,sys;print(json.load(sys.stdin)["served_model_name"])')" = "$NAME" ] ||
    fail "--served-model-name was mangled on the way: $(echo "$info" | grep -o '"served_model_name":"[^,]*')"
  for f in launcher.log node-0.log node-1.log; do [ -s "$R/$f" ] || fail "log $f missing"; done
  grep -q "Serving on http://127.0.0.1:$P" "$R/node-0.log" || fail "node-0.log is not node 0's: $(tail -2 "$R/node-0.log")"
  grep -q "Node 1 of 2: joining the rendezvous at 127.0.0.1:$D" "$R/node-1.log" ||
    fail "node-1.log: node 1 did not join 127.0.0.1:$D: $(tail -2 "$R/node-1.log")"
  S0=$(server_pid "$R" 0); S1=$(server_pid "$R" 1)
  [ -n "$S0" ] && [ -n "$S1" ] || fail "server pids not logged"
  tr '\0' '\n' <"/proc/$S0/environ" | grep -qxF "SGL_LAUNCH_MARK=a b'c \$d" || fail "--env did not reach node 0"

  # Node 1 dies → the launcher stops node 0 and exits non-zero, nothing left running.
  kill -9 "$S1"
  wait_exit $LP 20
  [ "$RC" != hang ] && [ "$RC" != 0 ] || fail "launcher after node 1 died: exit $RC (want != 0 within 20 s)"
  grep -q "node 1 (me@127.0.0.1) exited with status 137" "$R/err.txt" || fail "node 1's death not reported: $(cat "$R/err.txt")"
  left=$(servers_of "$D"); [ -z "$left" ] || fail "servers left after node 1 died: $left"
fi

# 4. SIGTERM to the launcher: node 0 drains and stops, node 1 follows; exit 0. FLAGS give
#    --dist-init-addr (= form): the launcher keeps it.
D=$(free_port); P=$(free_port); R=$TMP/b
if start_launcher "$R" "${COMMON[@]}" --model-path "$M" --max-total-tokens 65536 --tp-size 2 --port "$P" --dist-timeout 10 \
     --skip-server-warmup --dist-init-addr=127.0.0.1:"$D"; then
  grep -q "joining the rendezvous at 127.0.0.1:$D" "$R/node-1.log" || fail "given --dist-init-addr not used"
  kill -TERM $LP
  wait_exit $LP 20
  [ "$RC" = 0 ] || fail "launcher after SIGTERM: exit $RC (want 0 within 20 s): $(cat "$R/err.txt")"
  grep -q "Received SIGTERM, shutting down gracefully" "$R/node-0.log" || fail "node 0 was not stopped gracefully"
  grep -q "node 0 shut the group down" "$R/node-1.log" || fail "node 1 did not follow node 0: $(tail -2 "$R/node-1.log")"
  left=$(servers_of "$D"); [ -z "$left" ] || fail "servers left after SIGTERM: $left"
fi

# 5. SIGKILL to the launcher: its keepers close the nodes' stdin; the remote side stops them.
D=$(free_port); P=$(free_port); R=$TMP/c
if start_launcher "$R" --dist-port "$D" "${COMMON[@]}" --model-path "$M" --max-total-tokens 65536 --tp-size 2 --port "$P" \
     --dist-timeout 10 --skip-server-warmup; then
  kill -9 $LP; wait $LP 2>/dev/null
  for _ in $(seq 1 100); do [ -z "$(servers_of "$D")" ] && break; sleep 0.1; done
  left=$(servers_of "$D"); [ -z "$left" ] || fail "servers left 10 s after the launcher was killed: $left"
fi

# 6. A node that cannot start: every node stops, exit 1, the failing log quoted.
R=$TMP/d; mkdir -p "$R"
"$LAUNCH" --log-dir "$R" --dist-port "$(free_port)" "${COMMON[@]}" --model-path "$TMP/no-such-model" --tp-size 2 \
  --dist-timeout 5 >"$R/out.txt" 2>"$R/err.txt" & LP=$!; KILL_PIDS="$KILL_PIDS $LP"
wait_exit $LP 30
[ "$RC" = 1 ] || fail "a node that cannot start: launcher exit $RC (want 1)"
grep -q "failed (status 1); last lines of" "$R/err.txt" || fail "no failure report: $(cat "$R/err.txt")"

[ $fails = 0 ] && echo "launch-multinode: all checks passed"
exit $fails
