#!/usr/bin/env bash
# Fuzzes every place untrusted bytes enter (tests/fuzz/; docs/reliability.md, "Fuzzing").
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]   each target (default: all) for SECONDS (default 60)
#   SGL_FUZZ_RUNS=N scripts/fuzz.sh         each target for N executions instead (the CI budget),
#                                           from seed SGL_FUZZ_SEED (default 1)
#
# Configures and builds build-fuzz/ with clang (-DSGL_FUZZ=ON: libFuzzer, ASan, UBSan) when needed.
# Each target runs on its work corpus build-fuzz/fuzz-out/<target>/corpus (the committed seeds of
# tests/fuzz/corpus/<target> copied in; what it finds is kept for the next run) plus the committed
# reproducers of tests/fuzz/crashes/<target>, and prints executions and coverage. Exits non-zero
# when a target crashes, leaks, hangs or runs out of memory; the reproducer stays in
# build-fuzz/fuzz-out/<target>/ (crash-*, leak-*, timeout-*, oom-*): fix it, then commit it to
# tests/fuzz/crashes/<target>/ where CTest's fuzz_replay_<target> replays it in the normal build.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
JOBS=${JOBS:-$(nproc)}
SECONDS_PER_TARGET=${1:-60}
shift $(($# > 0 ? 1 : 0))
ALL_TARGETS=(http_request generate_request completion_request chat_request sampling_params form_data
             tokenizer detokenizer jinja grammar tool_call_parser reasoning_parser chat_output safetensors
             model_config)
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL_TARGETS[@]}")

# A target's dictionary, and the longest input worth trying (bigger ones only slow it down).
dict_of() {
  case $1 in
    http_request) echo http ;;
    generate_request | completion_request | chat_request | sampling_params) echo request ;;
    jinja | grammar | safetensors | model_config) echo "$1" ;;
  esac
}
max_len_of() {
  case $1 in
    jinja | chat_request | safetensors) echo 8192 ;;
    *) echo 4096 ;;
  esac
}

if ! grep -q '^SGL_FUZZ:BOOL=ON' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null; then
  command -v clang++ >/dev/null || { echo "fuzz: clang++ not found (apt-get install clang)" >&2; exit 2; }
  CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSGL_FUZZ=ON \
    -DSGL_CUDA=OFF -DSGL_BUILD_BENCH=OFF >/dev/null || exit 2
fi
build_start=$(date +%s)
cmake --build "$BUILD_DIR" -j "$JOBS" --target $(printf 'fuzz_%s ' "${TARGETS[@]}") || exit 2
echo "fuzz: build took $(($(date +%s) - build_start)) s"

# The CI budget runs from a fixed seed (SGL_FUZZ_SEED, default 1), so that a CI run is repeatable
# and fails only on what a change broke; timed runs explore with a fresh seed each time.
if [ -n "${SGL_FUZZ_RUNS:-}" ]; then budget=(-runs="$SGL_FUZZ_RUNS" -seed="${SGL_FUZZ_SEED:-1}");
else budget=(-max_total_time="$SECONDS_PER_TARGET"); fi
failed=()
printf '%-20s %10s %8s %8s %8s  %s\n' target execs exec/s cov ft result
for t in "${TARGETS[@]}"; do
  out="$BUILD_DIR/fuzz-out/$t"
  mkdir -p "$out/corpus"
  cp -n tests/fuzz/corpus/"$t"/* "$out/corpus/" 2>/dev/null
  args=("${budget[@]}" -max_len="$(max_len_of "$t")" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024
        -print_final_stats=1 -artifact_prefix="$out/")
  d=$(dict_of "$t")
  [ -n "$d" ] && args+=(-dict="tests/fuzz/dict/$d.dict")
  dirs=("$out/corpus")
  [ -d "tests/fuzz/crashes/$t" ] && dirs+=("tests/fuzz/crashes/$t")
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    "$BUILD_DIR/bin/fuzz_$t" "${args[@]}" "${dirs[@]}" >"$out/log" 2>&1
  rc=$?
  execs=$(grep -ao 'stat::number_of_executed_units: [0-9]*' "$out/log" | tail -1 | grep -o '[0-9]*$')
  speed=$(grep -ao 'stat::average_exec_per_sec: *[0-9]*' "$out/log" | tail -1 | grep -o '[0-9]*$')
  cov=$(grep -ao 'cov: [0-9]*' "$out/log" | tail -1 | grep -o '[0-9]*$')
  ft=$(grep -ao 'ft: [0-9]*' "$out/log" | tail -1 | grep -o '[0-9]*$')
  if [ $rc -eq 0 ]; then
    result=ok
  else
    result="FAILED (exit $rc): $(ls -t "$out" | grep -E '^(crash|leak|timeout|oom|slow-unit)-' | head -1)"
    failed+=("$t")
  fi
  printf '%-20s %10s %8s %8s %8s  %s\n' "$t" "${execs:--}" "${speed:--}" "${cov:--}" "${ft:--}" "$result"
done
if [ ${#failed[@]} -gt 0 ]; then
  for t in "${failed[@]}"; do
    echo "---- $t: $BUILD_DIR/fuzz-out/$t/log (tail)"
    tail -40 "$BUILD_DIR/fuzz-out/$t/log"
  done
  exit 1
fi
