#!/usr/bin/env bash
# sglcpp through its HTTP server vs llama.cpp on the same model shape, interleaved, ROUNDS rounds
# (issue 29). Each round measures, one after the other:
#   sglcpp engine alone  bench_one_batch, batch 1, 128 in / 64 out: decode tok/s and its fraction of
#                        the bandwidth roofline (weights + KV bytes per step at the read bandwidth
#                        it measures in the same run); batch 16, 128 in / 32 out: decode tok/s
#   sglcpp server        (started once, default flags but the model) bench_serving:
#                          decode-1:  one stream, 128-token prompt, 64 new tokens: 1 / median ITL
#                          decode-16: 16 concurrent streams of 128 + 32: 16 / median ITL (the
#                                     steady state while all 16 decode)
#                          prefill:   a 512-token prompt, 1 new token: 512 / median TTFT
#   llama.cpp            llama-bench -lm none: tg64 and pp512; llama-batched-bench -lm none
#                        -npp 128 -ntg 32 -npl 16: S_TG
# and prints every figure, then the medians and the ratios sglcpp / llama.cpp.
#
#   bench/compare_llamacpp.sh [ROUNDS=3] [PRESET=qwen3-0.6b]
# Env: SGL_THREADS (the server's --num-threads and llama.cpp's -t; default: unset for sglcpp, all
# cores for llama.cpp), SERVER_FLAGS (extra sglcpp-server flags), KEEP=1 (keep the work folder).
# Needs build/bin/{sglcpp-server,bench_one_batch,bench_serving} and ../shared/peers (it builds the
# peer and writes its GGUF files on first use: minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
PRESET=${2:-qwen3-0.6b}
BIN=build/bin
SHARED=$(cd .. && pwd)/shared
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3
TOK=$SHARED/models/qwen3-tokenizer
CONFIG=$SHARED/reference/configs/$PRESET.json
WORK=$(mktemp -d)
SRV=""
cleanup() { [ -n "$SRV" ] && kill "$SRV" 2>/dev/null; wait 2>/dev/null; [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"; }
trap cleanup EXIT
for f in sglcpp-server bench_one_batch bench_serving; do
  [ -x "$BIN/$f" ] || { echo "compare_llamacpp: $BIN/$f missing (bash scripts/build.sh)" >&2; exit 2; }
done
[ -f "$CONFIG" ] || { echo "compare_llamacpp: $CONFIG missing" >&2; exit 2; }

echo "== peer: llama.cpp (../shared/peers/llamacpp-cpu.sh $CONFIG)"
PEER_OUT=$(bash "$SHARED/peers/llamacpp-cpu.sh" "$CONFIG" "$TOK" | tail -1)  # BIN_DIR GGUF_BF16 GGUF_Q8_0 GGUF_Q4_0
read -r LLAMA_BIN GGUF _ <<<"$PEER_OUT"
[ -x "$LLAMA_BIN/llama-bench" ] && [ -f "$GGUF" ] || { echo "compare_llamacpp: peer output not understood: $PEER_OUT" >&2; exit 2; }
THREADS=${SGL_THREADS:-$(nproc)}
SGL_THREAD_FLAGS=(); [ -n "${SGL_THREADS:-}" ] && SGL_THREAD_FLAGS=(--num-threads "$SGL_THREADS")

echo "== sglcpp-server --model-path $PRESET --load-format dummy ${SGL_THREAD_FLAGS[*]} ${SERVER_FLAGS:-}"
PORT=$($PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
# shellcheck disable=SC2086
"$BIN/sglcpp-server" --model-path "$PRESET" --load-format dummy --tokenizer-path "$TOK" --port "$PORT" \
  "${SGL_THREAD_FLAGS[@]}" ${SERVER_FLAGS:-} >"$WORK/server.log" 2>&1 &
SRV=$!
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.5; done
curl -sf "http://127.0.0.1:$PORT/health" >/dev/null || { tail -20 "$WORK/server.log"; exit 1; }

serving() {  # name, prompts, concurrency, input, output → the JSON result in $WORK/$name.json
  rm -f "$WORK/$1.json"
  # A prompt seen before would come from the radix cache: flush it, and new prompts every round.
  curl -sf -X POST "http://127.0.0.1:$PORT/flush_cache" >/dev/null
  "$BIN/bench_serving" --backend sglang --host 127.0.0.1 --port "$PORT" --tokenizer "$TOK" --model "$PRESET" \
    --seed "$((round * 7 + ${#1}))" \
    --dataset-name random --random-range-ratio 1 --num-prompts "$2" --max-concurrency "$3" \
    --random-input-len "$4" --random-output-len "$5" --output-file "$WORK/$1.json" >"$WORK/$1.log" 2>&1
}
jget() { $PY -c "import json,sys; d=[json.loads(l) for l in open(sys.argv[1]) if l.strip()][-1]; print(d[sys.argv[2]])" "$@"; }

: >"$WORK/figures.tsv"
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$WORK/figures.tsv"; printf '  %-24s %10.2f\n' "$1" "$3"; }
for round in $(seq 1 "$ROUNDS"); do
  echo "== round $round"
  "$BIN/bench_one_batch" --model-path "$PRESET" --load-format dummy --batch-size 1 --input-len 128 \
    --output-len 64 "${SGL_THREAD_FLAGS[@]}" --result-filename "$WORK/obo.jsonl" >"$WORK/obo.log" 2>&1
  record engine_decode1_tok_s "$round" "$($PY -c "import json; d=[json.loads(l) for l in open('$WORK/obo.jsonl')][-1]; print(1/d['median_decode_latency'])")"
  record engine_roofline_pct "$round" "$($PY -c "import json; d=[json.loads(l) for l in open('$WORK/obo.jsonl')][-1]; print(100*d['decode_roofline_ratio'])")"
  "$BIN/bench_one_batch" --model-path "$PRESET" --load-format dummy --batch-size 16 --input-len 128 \
    --output-len 32 "${SGL_THREAD_FLAGS[@]}" --result-filename "$WORK/obo16.jsonl" >"$WORK/obo16.log" 2>&1
  record engine_decode16_tok_s "$round" "$($PY -c "import json; d=[json.loads(l) for l in open('$WORK/obo16.jsonl')][-1]; print(16/d['median_decode_latency'])")"
  serving d1 2 1 128 64
  record server_decode1_tok_s "$round" "$($PY -c "print(1000/$(jget "$WORK/d1.json" median_itl_ms))")"
  serving d16 16 16 128 32
  record server_decode16_tok_s "$round" "$($PY -c "print(16*1000/$(jget "$WORK/d16.json" median_itl_ms))")"
  serving pf 3 1 512 1
  record server_prefill512_tok_s "$round" "$($PY -c "print(512*1000/$(jget "$WORK/pf.json" median_ttft_ms))")"
  "$LLAMA_BIN/llama-bench" -m "$GGUF" -p 512 -n 64 -t "$THREADS" -lm none -o json >"$WORK/lb.json" 2>"$WORK/lb.err"
  record llama_tg64_tok_s "$round" "$($PY -c "import json; print([r['avg_ts'] for r in json.load(open('$WORK/lb.json')) if r['n_gen'] > 0][0])")"
  record llama_pp512_tok_s "$round" "$($PY -c "import json; print([r['avg_ts'] for r in json.load(open('$WORK/lb.json')) if r['n_prompt'] > 0][0])")"
  "$LLAMA_BIN/llama-batched-bench" -m "$GGUF" -c 4096 -npp 128 -ntg 32 -npl 16 -t "$THREADS" -lm none \
    >"$WORK/bb.log" 2>&1 || true
  record llama_batched16_tg_tok_s "$round" "$($PY - "$WORK/bb.log" <<'PY'
import re, sys
# Its table: | PP | TG | B | N_KV | T_PP s | S_PP t/s | T_TG s | S_TG t/s | T s | S t/s |
for line in open(sys.argv[1]):
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) >= 8 and cells[0] == "128" and cells[2] == "16":
        print(cells[7]); break
else:
    print("nan")
PY
)"
done

echo "== medians of $ROUNDS rounds (and sglcpp / llama.cpp)"
$PY - "$WORK/figures.tsv" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, _, value = line.split("\t")
    rows.setdefault(name, []).append(float(value))
m = {k: statistics.median(v) for k, v in rows.items()}
for k, v in m.items():
    print(f"{k:26s} {v:10.2f}   (min {min(rows[k]):.2f}, max {max(rows[k]):.2f})")
def ratio(a, b): return m[a] / m[b] if m.get(b) else float("nan")
print(f"decode, 1 stream:     server {ratio('server_decode1_tok_s', 'llama_tg64_tok_s'):.2f}x llama.cpp "
      f"(engine {ratio('engine_decode1_tok_s', 'llama_tg64_tok_s'):.2f}x, {m['engine_roofline_pct']:.1f} % of its roofline; "
      f"server / engine {ratio('server_decode1_tok_s', 'engine_decode1_tok_s'):.2f})")
print(f"decode, 16 streams:   server {ratio('server_decode16_tok_s', 'llama_batched16_tg_tok_s'):.2f}x llama.cpp "
      f"(server / engine {ratio('server_decode16_tok_s', 'engine_decode16_tok_s'):.2f})")
print(f"prefill, 512 tokens:  server {ratio('server_prefill512_tok_s', 'llama_pp512_tok_s'):.2f}x llama.cpp")
PY
