#!/usr/bin/env bash
# One sglcpp-server with two rank threads (--tp-size 2), then two processes as two nodes on
# loopback (--tp-size 2 --nnodes 2): node 0 serves HTTP
# with the same greedy text as a single process; killing node 1 mid-stream ends the stream with an
# error, /health turns 503 and node 0 exits 1 (likewise when node 1 hangs: SIGSTOP) — all under
# timeouts, never a hang. Then the
# rendezvous errors: unreachable node 0, mismatched model, a node rank taken twice, a rank out of
# range → a clear message and exit != 0 within --dist-timeout.
# Usage: two_node_server_test.sh <sglcpp-server> <models dir>. Exit 77 (CTest skip) without models/curl.
set -u
BIN=$1; MODELS=$2; M=$MODELS/tiny-qwen3
[ -d "$M" ] || { echo "SKIP: $M absent"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: needs curl"; exit 77; }
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
TMP=$(mktemp -d); fails=0; PIDS=""
trap 'for p in $PIDS; do kill -9 $p 2>/dev/null; done; rm -rf $TMP' EXIT
fail() { echo "FAIL: $1"; fails=$((fails+1)); }
J='Content-Type: application/json'
REQ='{"text":"def main():","sampling_params":{"max_new_tokens":16,"temperature":0,"ignore_eos":true}}'
wait_health() { for _ in $(seq 1 240); do curl -sf "$1/health" >/dev/null && return 0; sleep 0.25; done; return 1; }
# RC = exit status of child $1 within $2 seconds, or "hang" (not in a subshell: wait needs our child)
wait_exit() {
  RC=hang
  for _ in $(seq 1 $(($2 * 10))); do kill -0 $1 2>/dev/null || { wait $1; RC=$?; return; }; sleep 0.1; done
}

# 1. Reference: one process, tp 1.
P=$(free_port); "$BIN" --model-path "$M" --max-total-tokens 65536 --port $P --skip-server-warmup >$TMP/ref.log 2>&1 & REF=$!; PIDS="$PIDS $REF"
wait_health http://127.0.0.1:$P || fail "single process did not start"
ref=$(curl -s -m 60 http://127.0.0.1:$P/generate -H "$J" -d "$REQ" | python3 -c 'import json,sys;print(json.load(sys.stdin)["text"])')
kill $REF; wait $REF 2>/dev/null

# 1b. One process, two rank threads (--tp-size 2 on one node): the same text as tp 1.
P=$(free_port); "$BIN" --model-path "$M" --max-total-tokens 65536 --port $P --tp-size 2 --skip-server-warmup >$TMP/tp2.log 2>&1 & TP2=$!; PIDS="$PIDS $TP2"
if wait_health http://127.0.0.1:$P; then
  got=$(curl -s -m 60 http://127.0.0.1:$P/generate -H "$J" -d "$REQ" | python3 -c 'import json,sys;print(json.load(sys.stdin)["text"])')
  [ -n "$ref" ] && [ "$got" = "$ref" ] || fail "tp 2 in one process: '$got' != tp 1 '$ref'"
  tp=$(curl -s http://127.0.0.1:$P/get_server_info | python3 -c 'import json,sys;print(json.load(sys.stdin)["tp_size"])')
  [ "$tp" = 2 ] || fail "server_info tp_size: $tp"
else
  fail "tp 2 in one process did not start: $(tail -2 $TMP/tp2.log)"
fi
kill $TP2; wait $TP2 2>/dev/null

# 2. Two nodes.
D=$(free_port); P=$(free_port); B=http://127.0.0.1:$P
COMMON="--model-path $M --max-total-tokens 65536 --tp-size 2 --nnodes 2 --dist-init-addr 127.0.0.1:$D --dist-timeout 10"
"$BIN" $COMMON --node-rank 0 --port $P >$TMP/n0.log 2>&1 & N0=$!; PIDS="$PIDS $N0"
"$BIN" $COMMON --node-rank 1 >$TMP/n1.log 2>&1 & N1=$!; PIDS="$PIDS $N1"
wait_health $B || { fail "two-node server did not start"; cat $TMP/n0.log $TMP/n1.log; exit 1; }
got=$(curl -s -m 60 $B/generate -H "$J" -d "$REQ" | python3 -c 'import json,sys;print(json.load(sys.stdin)["text"])')
[ -n "$ref" ] && [ "$got" = "$ref" ] || fail "tp 2 over two nodes: '$got' != single process '$ref'"
s=$(curl -sN -m 60 $B/generate -H "$J" -d "${REQ/\"text\"/\"stream\":true,\"text\"}")
last=$(echo "$s" | grep '^data: {' | tail -1 | sed 's/^data: //' | python3 -c 'import json,sys;print(json.load(sys.stdin)["text"])')
[ "$last" = "$ref" ] || fail "streamed text '$last' != '$ref'"
[ "$(echo "$s" | tail -1)" = "data: [DONE]" ] || fail "stream does not end with [DONE]"

# 3. Kill node 1 mid-stream.
curl -sN -m 60 $B/generate -H "$J" \
  -d '{"text":"a","stream":true,"sampling_params":{"max_new_tokens":3000,"ignore_eos":true}}' >$TMP/stream.txt 2>&1 &
CURL=$!
for _ in $(seq 1 100); do [ "$(grep -c '^data: {' $TMP/stream.txt)" -ge 3 ] && break; sleep 0.1; done
[ "$(grep -c '^data: {' $TMP/stream.txt)" -ge 3 ] || fail "the long stream never started"
kill -9 $N1
health=""
for _ in $(seq 1 50); do
  health=$(curl -s -o /dev/null -m 1 -w '%{http_code}' $B/health); [ "$health" != 200 ] && break; sleep 0.1
done
[ "$health" = 503 ] || fail "/health after node 1 died: $health (want 503)"
wait_exit $CURL 10; [ "$RC" != hang ] || fail "the stream did not end after node 1 died"
grep -q '"abort"\|error' $TMP/stream.txt || fail "the stream ended without an error: $(tail -c 300 $TMP/stream.txt)"
wait_exit $N0 15; rc=$RC
[ "$rc" = 1 ] || fail "node 0 exit status after node 1 died: $rc (want 1)"
grep -q "Tensor-parallel group failed" $TMP/n0.log || fail "node 0 did not say why it stopped"

# 3b. A hung node 1 (stopped, sockets open): the heartbeat's barrier times out after --dist-timeout.
D=$(free_port); P=$(free_port); B=http://127.0.0.1:$P
COMMON="--model-path $M --max-total-tokens 65536 --tp-size 2 --nnodes 2 --dist-init-addr 127.0.0.1:$D --dist-timeout 5"
"$BIN" $COMMON --node-rank 0 --port $P >$TMP/h0.log 2>&1 & N0=$!; PIDS="$PIDS $N0"
# Start node 1 once node 0's store listens: a 5 s rendezvous must not race node 0's tokenizer load.
for _ in $(seq 1 300); do python3 -c "import socket;socket.create_connection(('127.0.0.1',$D),0.2)" 2>/dev/null && break; sleep 0.1; done
"$BIN" $COMMON --node-rank 1 >$TMP/h1.log 2>&1 & N1=$!; PIDS="$PIDS $N1"
if wait_health $B; then
  kill -STOP $N1
  health=""
  for _ in $(seq 1 150); do
    health=$(curl -s -o /dev/null -m 1 -w '%{http_code}' $B/health); [ "$health" != 200 ] && break; sleep 0.1
  done
  [ "$health" = 503 ] || fail "/health with node 1 hung: $health (want 503)"
  wait_exit $N0 20; [ "$RC" = 1 ] || fail "node 0 exit status with node 1 hung: $RC (want 1)"
  grep -q "stopped answering within --dist-timeout 5 s" $TMP/h0.log || fail "hung node: $(tail -2 $TMP/h0.log)"
else
  fail "two-node server (dist-timeout 5) did not start: $(tail -2 $TMP/h0.log $TMP/h1.log)"
fi
kill -9 $N1 2>/dev/null

# 4. Rendezvous errors.
D=$(free_port)
"$BIN" --model-path "$M" --max-total-tokens 65536 --tp-size 2 --nnodes 2 --node-rank 1 --dist-init-addr 127.0.0.1:$D --dist-timeout 2 >$TMP/u.log 2>&1 & U=$!
wait_exit $U 15; rc=$RC
[ "$rc" != hang ] && [ "$rc" != 0 ] || fail "unreachable node 0: exit $rc"
grep -q "cannot reach the rendezvous store at 127.0.0.1:$D" $TMP/u.log || fail "unreachable: $(tail -2 $TMP/u.log)"

D=$(free_port); P=$(free_port)
"$BIN" --model-path "$M" --max-total-tokens 65536 --port $P --tp-size 2 --nnodes 2 --node-rank 0 --dist-init-addr 127.0.0.1:$D --dist-timeout 30 >$TMP/m0.log 2>&1 & A=$!
"$BIN" --model-path "$MODELS/tiny-llama" --max-total-tokens 65536 --tp-size 2 --nnodes 2 --node-rank 1 --dist-init-addr 127.0.0.1:$D --dist-timeout 30 >$TMP/m1.log 2>&1 & C=$!
PIDS="$PIDS $A $C"
wait_exit $A 20; ra=$RC; wait_exit $C 20; rb=$RC
[ "$ra" != hang ] && [ "$ra" != 0 ] && [ "$rb" != hang ] && [ "$rb" != 0 ] || fail "mismatched model: exits $ra / $rb"
grep -q "launch arguments differ between node 0 and node 1: model (tiny-qwen3 here, tiny-llama on node 1)" $TMP/m0.log ||
  fail "mismatch on node 0: $(tail -2 $TMP/m0.log)"
grep -q "launch arguments differ between node 1 and node 0: model (tiny-llama here, tiny-qwen3 on node 0)" $TMP/m1.log ||
  fail "mismatch on node 1: $(tail -2 $TMP/m1.log)"

D=$(free_port); P=$(free_port)
"$BIN" --model-path "$M" --max-total-tokens 65536 --port $P --tp-size 2 --nnodes 2 --node-rank 0 --dist-init-addr 127.0.0.1:$D --dist-timeout 30 >$TMP/d0.log 2>&1 & A=$!
"$BIN" --model-path "$M" --max-total-tokens 65536 --tp-size 2 --nnodes 2 --node-rank 1 --dist-init-addr 127.0.0.1:$D --dist-timeout 30 >$TMP/d1.log 2>&1 & C=$!
sleep 0.3
"$BIN" --model-path "$M" --max-total-tokens 65536 --tp-size 2 --nnodes 2 --node-rank 1 --dist-init-addr 127.0.0.1:$D --dist-timeout 30 >$TMP/d2.log 2>&1 & E=$!
PIDS="$PIDS $A $C $E"
# One node 1 joins node 0 (they form a working group); the other is refused, whichever came second.
refused=""
for _ in $(seq 1 100); do
  grep -q -- "--node-rank 1 is already taken by" $TMP/d1.log && { refused=$C; break; }
  grep -q -- "--node-rank 1 is already taken by" $TMP/d2.log && { refused=$E; break; }
  sleep 0.1
done
if [ -z "$refused" ]; then fail "a node rank claimed twice was not refused: $(tail -1 $TMP/d1.log) / $(tail -1 $TMP/d2.log)"
else wait_exit $refused 10; [ "$RC" != hang ] && [ "$RC" != 0 ] || fail "refused node 1: exit $RC"; fi
kill $A $C $E 2>/dev/null

"$BIN" --model-path "$M" --max-total-tokens 65536 --tp-size 2 --nnodes 2 --node-rank 2 --dist-init-addr 127.0.0.1:1 >$TMP/r.log 2>&1
rc=$?
[ $rc != 0 ] && grep -q -- "--node-rank 2 must be in \[0, --nnodes 2)" $TMP/r.log || fail "node rank out of range: $rc $(cat $TMP/r.log)"

[ $fails = 0 ] && echo "two-node server: all checks passed"
exit $fails
