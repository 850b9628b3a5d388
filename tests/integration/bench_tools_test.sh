#!/usr/bin/env bash
# bench_one_batch_server and bench_serving against the real server on tiny-qwen3 (issue 7):
# both finish, Successful requests == --num-prompts, generated tokens == prompts × output len
# with ignore_eos, TTFT ≤ E2E, the JSONL records carry SGLang's keys, and --max-concurrency 4
# never has more than 4 requests in flight. Exit 77 (CTest skip) when the model or jq is missing.
set -u
SERVER=$1; BIN_DIR=$2; MODEL=$3
[ -d "$MODEL" ] || { echo "SKIP: $MODEL absent"; exit 77; }
command -v curl >/dev/null && command -v jq >/dev/null || { echo "SKIP: needs curl and jq"; exit 77; }
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
B=http://127.0.0.1:$PORT; LOG=$(mktemp); TMP=$(mktemp -d); fails=0
"$SERVER" --model-path "$MODEL" --max-total-tokens 65536 --port "$PORT" >"$LOG" 2>&1 &
SRV=$!
trap 'kill $SRV 2>/dev/null; rm -rf $LOG $TMP' EXIT
for _ in $(seq 1 240); do curl -sf $B/health >/dev/null && break; sleep 0.5; done
fail() { echo "FAIL: $1"; fails=$((fails+1)); }

o1=$("$BIN_DIR/bench_one_batch_server" --base-url $B --model-path "$MODEL" --batch-size 2 4 --input-len 32 \
      --output-len 8 --result-filename $TMP/obs.jsonl 2>&1) || fail "bench_one_batch_server exit: $(echo "$o1" | tail -2)"
echo "$o1" | grep -q "^output throughput: " || fail "bench_one_batch_server prints no output throughput"
[ "$(wc -l < $TMP/obs.jsonl)" = 2 ] || fail "one JSONL record per case"
jq -e 'select(.batch_size==4) | .input_len==32 and .output_len==8 and .latency>0 and .ttft<=.latency and
       .output_throughput>0 and .overall_throughput>0 and (.run_name|type=="string")' $TMP/obs.jsonl >/dev/null \
  || fail "bench_one_batch_server record: $(cat $TMP/obs.jsonl)"

o2=$("$BIN_DIR/bench_serving" --backend sglang --base-url $B --dataset-name random-ids --num-prompts 12 \
      --random-input 64 --random-output 16 --random-range-ratio 1 --max-concurrency 4 --warmup-requests 1 \
      --disable-tqdm --output-file $TMP/bs.jsonl 2>/dev/null) || fail "bench_serving exit"
echo "$o2" | grep -Eq "^Successful requests: +12 *$" || fail "not 12 successful requests"
echo "$o2" | grep -Eq "^Total generated tokens: +192 *$" || fail "generated tokens != 12*16"
echo "$o2" | grep -Eq "^Peak concurrent requests: +[1-4] *$" || fail "more than 4 requests in flight"
jq -e '.completed==12 and .total_output_tokens==192 and .mean_ttft_ms<=.mean_e2e_latency_ms and
       .max_concurrent_requests<=4 and .max_concurrency==4 and (.server_info|type=="object") and
       .median_itl_ms>0 and .p99_tpot_ms>0 and .request_throughput>0' $TMP/bs.jsonl >/dev/null \
  || fail "bench_serving record: $(head -c 400 $TMP/bs.jsonl)"

o3=$("$BIN_DIR/bench_serving" --backend openai-chat --base-url $B --dataset-name random-ids --num-prompts 6 \
      --random-input 32 --random-output 8 --random-range-ratio 1 --max-concurrency 2 --warmup-requests 0 \
      --disable-tqdm 2>/dev/null) || fail "bench_serving openai-chat exit"
echo "$o3" | grep -Eq "^Successful requests: +6 *$" || fail "openai-chat: not 6 successful"
# argparse's unique-prefix abbreviations (--num-prompt, --random-in) and --model None, as SGLang's
# documented command lines and users' scripts write them.
o4=$("$BIN_DIR/bench_serving" --backend sglang --base-url $B --model None --dataset-name random-ids --num-prompt 4 \
      --random-in 16 --random-out 4 --random-range-ratio 1 --warmup-requests 0 --disable-tq 2>/dev/null) \
  || fail "bench_serving with abbreviated flags exit"
echo "$o4" | grep -Eq "^Successful requests: +4 *$" || fail "abbreviated flags: not 4 successful requests"
# Without --base-url, bench_one_batch_server launches sglcpp-server with the launch flags it was
# given (as SGLang-JAX's does), benchmarks it and stops it.
o5=$(PATH="$(dirname "$SERVER"):$PATH" "$BIN_DIR/bench_one_batch_server" --model-path "$MODEL" --max-total-tokens 8192 \
      --batch-size 1 --input-len 16 --output-len 4 --result-filename $TMP/self.jsonl 2>&1) \
  || fail "bench_one_batch_server self-launch exit: $(echo "$o5" | tail -3)"
echo "$o5" | grep -q "^Stopped the server" || fail "self-launched server not stopped: $(echo "$o5" | tail -3)"
[ "$(wc -l < $TMP/self.jsonl 2>/dev/null)" = 1 ] || fail "self-launch record missing"
echo "bench tools: $fails failures"
[ $fails = 0 ]
