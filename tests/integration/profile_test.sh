#!/usr/bin/env bash
# /start_profile, /stop_profile and /profile_status on tiny-qwen3 (issue 28), as SGLang's clients
# drive them: num_steps stops the capture by itself after that many forwards and writes
# <profile_id>-TP-0.trace.json.gz; without it /stop_profile writes the trace before answering; the
# trace is Chrome JSON with the forwards, their kernels (per layer), the scheduler's steps, each
# request's span and each HTTP exchange; errors are 400s in the native shape with SGLang's text;
# bench_serving --profile and bench_one_batch_server --profile get a trace, and so does the
# in-process bench_one_batch --profile.
# Exit 77 (CTest skip) without the model, curl, jq or python3.
set -u
SERVER=$1; BIN_DIR=$2; MODEL=$3
BIN=$SERVER
. "$(dirname "$0")/server_test_lib.sh"
export SGLANG_TORCH_PROFILER_DIR
SGLANG_TORCH_PROFILER_DIR=$(mktemp -d)/default  # the server's default directory (created on start)
serve_whole_script --disable-overlap-schedule
trap 'kill $SRV 2>/dev/null; rm -rf $TMP "$(dirname "$SGLANG_TORCH_PROFILER_DIR")"' EXIT
LAYERS=$(jq .num_hidden_layers "$MODEL/config.json")

post() { curl -s -o $TMP/body -w '%{http_code}' -H "$J" -X POST "$A$1" ${2:+-d "$2"}; }
status() { curl -s $A/profile_status | jq -r .status; }
generate() {  # generate N: N new tokens, greedy, EOS ignored
  curl -s -H "$J" -d "{\"text\":\"The capital of France is\",\"sampling_params\":{\"max_new_tokens\":$1,\"temperature\":0,\"ignore_eos\":true}}" \
    $A/generate | jq -e ".meta_info.completion_tokens == $1" >/dev/null || fail "generate $1"
}
# check_trace FILE PYTHON-EXPR...: the trace parses; each expression over `ev` (events), `od`
# (otherData), `n(name, ph='X')` (count) and LAYERS holds.
check_trace() {
  local f=$1; shift
  $PY - "$f" "$LAYERS" "$@" <<'EOF' || fail "trace $f"
import gzip, json, sys
t = json.load(gzip.open(sys.argv[1]))
ev, od, LAYERS = t["traceEvents"], t["otherData"], int(sys.argv[2])
n = lambda name, ph="X": sum(1 for e in ev if e.get("name") == name and e["ph"] == ph)
ok = True
for expr in sys.argv[3:]:
    if not eval(expr):
        ok = False
        print("  does not hold: %s" % expr)
print("  trace: %d events, %s" % (len(ev), od))
sys.exit(0 if ok else 1)
EOF
}

# The precision tracer's routes need --enable-precision-tracer (SGLang-JAX's answer).
c=$(post /start_trace); [ "$c" = 400 ] && jq -e '.status == "error" and (.message | test("--enable-precision-tracer"))' \
  $TMP/body >/dev/null || fail "/start_trace without the flag: $c $(cat $TMP/body)"

# Nothing to stop; bad requests.
[ "$(status)" = idle ] || fail "profile_status before any capture"
c=$(post /stop_profile); [ "$c" = 400 ] && jq -e '.error.message | test("not in progress")' $TMP/body >/dev/null \
  || fail "stop with nothing to stop: $c $(cat $TMP/body)"
c=$(post /start_profile '{"num_steps": 0}'); [ "$c" = 400 ] || fail "num_steps 0: $c"
c=$(post /start_profile '{"activities": ["TPU"]}'); [ "$c" = 400 ] || fail "unknown activity: $c"
c=$(post /start_profile '{"output_dir": "/proc/sglcpp-no-such-dir"}')
[ "$c" = 400 ] && jq -e '.error.message | test("no permission to write")' $TMP/body >/dev/null \
  || fail "unwritable directory: $c $(cat $TMP/body)"
[ "$(status)" = idle ] || fail "a refused start left a capture"

# num_steps: stops by itself after 3 forwards (bench_one_batch_server's body: num_steps a string).
P=$TMP/steps
c=$(post /start_profile "{\"output_dir\": \"$P\", \"num_steps\": \"3\", \"activities\": [\"CPU\", \"GPU\"]}")
[ "$c" = 200 ] && [ "$(cat $TMP/body)" = "Start profiling." ] || fail "start: $c $(cat $TMP/body)"
[ "$(status)" = in_progress ] || fail "profile_status while armed"
c=$(post /start_profile); [ "$c" = 400 ] && jq -e '.error.message | test("already in progress")' $TMP/body >/dev/null \
  || fail "second start: $c"
generate 8
for _ in $(seq 1 40); do compgen -G "$P/*-TP-0.trace.json.gz" >/dev/null && break; sleep 0.25; done
f=$(ls $P/*-TP-0.trace.json.gz 2>/dev/null | head -1)
if [ -z "$f" ]; then
  fail "no trace after num_steps: $(ls -la $P 2>&1)"
else
  [[ $(basename "$f") =~ ^[0-9]+\.[0-9]+-TP-0\.trace\.json\.gz$ ]] || fail "SGLang's file name: $f"
  check_trace "$f" 'od["forwards"] == 3' 'od["stopped_by_step_limit"]' 'n("prefill") == 1' 'n("decode") == 2' \
    'n("attention") == 3 * LAYERS' 'n("mlp") == 3 * LAYERS' 'n("lm_head") == 3' 'n("sample") == 3' \
    'n("schedule") >= 3' 'n("process_output") >= 2' 'n("POST /generate", "b") == 1' \
    'any(e["ph"] == "M" and e["args"]["name"] == "forward worker" for e in ev)'
fi
[ "$(status)" = idle ] || fail "profile_status after the steps ran"

# Until /stop_profile: the trace is written before the answer; a prefix names the file.
P=$TMP/manual
c=$(post /start_profile "{\"output_dir\": \"$P\", \"profile_prefix\": \"run1\"}"); [ "$c" = 200 ] || fail "start 2: $c"
generate 6
c=$(post /stop_profile)
[ "$c" = 200 ] && [ "$(cat $TMP/body)" = "Stop profiling. This will take some time." ] || fail "stop: $c $(cat $TMP/body)"
f=$(ls $P/run1-*-TP-0.trace.json.gz 2>/dev/null | head -1)
if [ -z "$f" ]; then fail "no trace after /stop_profile: $(ls -la $P 2>&1)"; else
  check_trace "$f" 'od["forwards"] == 6' 'not od["stopped_by_step_limit"]' 'n("POST /generate", "b") == 1' \
    'any(e["ph"] == "e" and e["name"] == "POST /generate" and e["args"]["status"] == 200 for e in ev)' \
    'n("POST /start_profile", "b") == 0' 'sum(1 for e in ev if e.get("cat") == "request" and e["ph"] == "e") == 1'
fi

# GET with no body: the default directory (SGLANG_TORCH_PROFILER_DIR).
curl -sf $A/start_profile >/dev/null || fail "GET /start_profile"
generate 2
curl -sf $A/stop_profile >/dev/null || fail "GET /stop_profile"
compgen -G "$SGLANG_TORCH_PROFILER_DIR/*-TP-0.trace.json.gz" >/dev/null || fail "no trace in SGLANG_TORCH_PROFILER_DIR"

# The bench tools' --profile.
if [ -x "$BIN_DIR/bench_serving" ]; then
  before=$(ls $SGLANG_TORCH_PROFILER_DIR | wc -l)
  o=$("$BIN_DIR/bench_serving" --backend sglang --base-url $A --dataset-name random-ids --num-prompts 4 \
       --random-input 16 --random-output 4 --random-range-ratio 1 --profile --disable-tqdm \
       --output-file $TMP/bs.jsonl 2>&1) || fail "bench_serving --profile exit"
  echo "$o" | grep -q "Profiler stopped" || fail "bench_serving --profile: $(echo "$o" | grep -i profil)"
  [ "$(ls $SGLANG_TORCH_PROFILER_DIR | wc -l)" = $((before + 1)) ] || fail "bench_serving --profile wrote no trace"
fi
if [ -x "$BIN_DIR/bench_one_batch_server" ]; then
  o=$("$BIN_DIR/bench_one_batch_server" --base-url $A --model-path "$MODEL" --batch-size 2 --input-len 16 \
       --output-len 6 --profile 2>&1) || fail "bench_one_batch_server --profile exit: $(echo "$o" | tail -3)"
  d=$(echo "$o" | sed -n 's/^Dump profiling traces to //p' | head -1)
  for _ in $(seq 1 40); do compgen -G "$d/*.trace.json.gz" >/dev/null && break; sleep 0.25; done
  if compgen -G "$d/*.trace.json.gz" >/dev/null; then
    check_trace "$(ls $d/*.trace.json.gz | head -1)" 'od["forwards"] == 3'
    [ -s "$d/server_args.json" ] || fail "bench_one_batch_server: no server_args.json beside the trace"
  else
    fail "bench_one_batch_server --profile: no trace in '$d': $(echo "$o" | grep -i profil)"
  fi
  rm -rf "$d"
fi
if [ -x "$BIN_DIR/bench_one_batch" ]; then  # in-process: the same recorder without the server
  o=$("$BIN_DIR/bench_one_batch" --model-path "$MODEL" --batch-size 2 --input-len 8 --output-len 4 --profile \
       --profile-filename-prefix $TMP/obb/prof 2>&1) || fail "bench_one_batch --profile exit: $(echo "$o" | tail -3)"
  f=$TMP/obb/prof_batch2_input8_output4.trace.json.gz
  if [ -f $f ]; then check_trace $f 'od["forwards"] == 4' 'n("prefill") == 1' 'n("decode") == 3' 'n("lm_head") == 4';
  else fail "bench_one_batch --profile wrote no $f: $(echo "$o" | tail -3)"; fi
fi
kill -0 $SRV || fail "the server died"
[ $fails -eq 0 ] && echo "PASS" || { tail -5 $TMP/log; echo "$fails failure(s)"; exit 1; }
