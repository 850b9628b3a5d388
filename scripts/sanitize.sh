#!/usr/bin/env bash
# Sanitizer runs (issue 25; docs/reliability.md, "Sanitizers"):
#   asan  ASan + UBSan (build-asan): the unit tests and the integration tests that drive the
#         HTTP, JSON, tool-call and grammar parsing code.
#   tsan  TSan (build-tsan): the scheduler, reactor and server tests and the integration tests
#         that load the real server with concurrent clients.
#   asan-ci, tsan-ci: the shares CI runs (scripts/test.sh; the lists below say which). asan-ci
#         builds its tests in the fuzz build (build-fuzz: clang, every library already compiled
#         with ASan + UBSan for scripts/fuzz.sh) when that exists, so CI compiles the parsing code
#         under ASan once, not twice; otherwise in build-asan with g++.
# Usage: bash scripts/sanitize.sh [asan] [tsan] [asan-ci] [tsan-ci]   (no argument: asan and tsan)
# Each configuration has its own build directory and ccache entries; reports of the servers the
# integration tests start go to <build>/sanitizer-logs, printed at the end (any report fails).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
SUPP=$PWD/tests/sanitizers

ASAN_UNIT=(test_base test_net test_server test_parsers test_grammar test_text test_sched test_spec
           test_engine test_dist test_bench_clients test_check_env)
ASAN_INTEGRATION=(integration_server_http integration_server_limits integration_server_load
                  integration_tool_calls integration_structured_output integration_openai_sdk
                  integration_responses integration_ops_routes integration_launch_flags)
TSAN_UNIT=(test_sched test_net test_server)
# CI's share (scripts/test.sh), within its time budget: the parsing code under ASan + UBSan without
# the engine (HTTP, JSON requests, tokenizer, templates, grammars, parsers, and the fuzz corpora and
# reproducers replayed instrumented), and the scheduler and the reactor under TSan.
ASAN_CI_UNIT=(test_base test_net test_server test_parsers test_text)
ASAN_CI_REPLAYS=(http_request generate_request completion_request chat_request sampling_params tokenizer
                 detokenizer jinja grammar tool_call_parser reasoning_parser chat_output)
TSAN_CI_UNIT=(test_net test_sched)
# Not in CI's TSan share: the scheduler tests that run the real tiny model (their threads are the
# fake-engine tests' threads; under TSan on one CPU they are 80 % of the share's time in its kernels).
TSAN_CI_EXCLUDE='^(SchedulerRealModel|SchedulerLora)\.'

# Not integration_server_limits, integration_graceful_shutdown nor integration_ops_control: they
# hold the server to times (an 8 MB prompt refused within 2 s; a 1,000-token stream finished within
# the shutdown grace; the whole script within its 300 s) that TSan's 5-15x slowdown on one CPU
# breaks (5.4 s; > 120 s; timeout at 258 s of its sections) without any race report.
TSAN_INTEGRATION=(integration_server_load)

join() { local IFS='|'; echo "^($*)\$"; }
now() { date +%s; }

# build DIR SANITIZERS TARGETS...: Release (-O2) plus the sanitizers, no CUDA (cmake/Sanitizers.cmake).
build() {
  local dir=$1 san=$2; shift 2
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSGL_CUDA=OFF -DSGL_SANITIZE="$san" >/dev/null
  cmake --build "$dir" -j "$JOBS" --target "$@" ${WITH_SERVER-sglcpp-server}
}

# check DIR NAME UNITS... -- INTEGRATION...: the unit areas (by label) report in the failing test's
# output. The servers of the integration tests log to files (the scripts send their stderr to a
# temp dir they delete), collected once those servers have exited. $WRAP prefixes ctest.
check() {
  local dir=$1 name=$2; shift 2
  local units=() integ=() rc=0 t
  while [ $# -gt 0 ] && [ "$1" != -- ]; do units+=("$1"); shift; done
  shift; integ=("$@")
  local logs=$PWD/$dir/sanitizer-logs
  rm -rf "$logs"; mkdir -p "$logs"
  t=$(now)
  $WRAP ctest --test-dir "$dir" -L "$(join "${units[@]}")" ${EXCLUDE:+-E "$EXCLUDE"} --output-on-failure \
    -j "$JOBS" --timeout 900 || rc=1
  echo "sanitize: $name unit tests $(($(now) - t)) s"
  [ ${#integ[@]} -gt 0 ] || return $rc
  t=$(now)
  local lp=log_path=$logs/report
  ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:$lp} UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:$lp} \
    TSAN_OPTIONS=${TSAN_OPTIONS:+$TSAN_OPTIONS:$lp} \
    $WRAP ctest --test-dir "$dir" -R "$(join "${integ[@]}")" --output-on-failure -j "$JOBS" --timeout 900 || rc=1
  # The scripts' EXIT traps send SIGTERM without waiting: give those servers time to shut down
  # (and LeakSanitizer time to write its report) before looking.
  for _ in $(seq 1 120); do pgrep -f "^$PWD/$dir/bin/sglcpp-server" >/dev/null || break; sleep 0.5; done
  echo "sanitize: $name integration tests $(($(now) - t)) s"
  if compgen -G "$logs/report*" >/dev/null; then
    for f in "$logs"/report*; do echo "=== $f"; cat "$f"; done
    echo "sanitize: $name: the servers above reported errors"
    rc=1
  fi
  return $rc
}

asan_env() {
  # LeakSanitizer checks every process at exit; the frames of returned functions stay poisoned,
  # so a reference into a finished function's (or coroutine's) stack faults.
  export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:suppressions=$SUPP/asan.supp"
  export LSAN_OPTIONS="suppressions=$SUPP/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$SUPP/ubsan.supp"
}

asan() {
  asan_env
  local t
  t=$(now)
  build build-asan address,undefined "${ASAN_UNIT[@]}"
  echo "sanitize: asan build $(($(now) - t)) s"
  WRAP="" check build-asan asan "${ASAN_UNIT[@]}" -- "${ASAN_INTEGRATION[@]}"
}

tsan_env() {
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$SUPP/tsan.supp"
}

tsan() {
  tsan_env
  local t
  t=$(now)
  build build-tsan thread "${TSAN_UNIT[@]}"
  echo "sanitize: tsan build $(($(now) - t)) s"
  # On one CPU, oneTBB sizes every arena to one thread, so the engine's parallel_for bodies run on
  # the calling thread: libtbb is not instrumented, TSan cannot see its hand-off of a chunk to a
  # worker thread, and would report every kernel. The reactor, scheduler and step threads still
  # run concurrently (interleaved), which is all TSan's happens-before analysis needs.
  WRAP="taskset -c 0" check build-tsan tsan "${TSAN_UNIT[@]}" -- "${TSAN_INTEGRATION[@]}"
}

asan_ci() {
  asan_env
  local t replays=()
  t=$(now)
  if grep -q '^SGL_FUZZ:BOOL=ON' build-fuzz/CMakeCache.txt 2>/dev/null; then
    # The fuzz runs (scripts/fuzz.sh) have replayed every corpus and reproducer under ASan already.
    cmake --build build-fuzz -j "$JOBS" --target "${ASAN_CI_UNIT[@]}"
    echo "sanitize: asan-ci build (in build-fuzz) $(($(now) - t)) s"
    WRAP="" check build-fuzz asan-ci "${ASAN_CI_UNIT[@]}" --
    return
  fi
  for r in "${ASAN_CI_REPLAYS[@]}"; do replays+=("fuzz_replay_$r"); done
  WITH_SERVER="" build build-asan address,undefined "${ASAN_CI_UNIT[@]}" "${replays[@]}"
  echo "sanitize: asan-ci build $(($(now) - t)) s"
  WRAP="" check build-asan asan-ci "${ASAN_CI_UNIT[@]}" -- "${replays[@]}"
}

tsan_ci() {
  tsan_env
  local t
  t=$(now)
  WITH_SERVER="" build build-tsan thread "${TSAN_CI_UNIT[@]}"
  echo "sanitize: tsan-ci build $(($(now) - t)) s"
  WRAP="taskset -c 0" EXCLUDE=$TSAN_CI_EXCLUDE check build-tsan tsan-ci "${TSAN_CI_UNIT[@]}" --
}

configs=("$@")
[ ${#configs[@]} -gt 0 ] || configs=(asan tsan)
rc=0
for c in "${configs[@]}"; do
  case $c in
    asan | tsan) $c || rc=1 ;;
    asan-ci) asan_ci || rc=1 ;;
    tsan-ci) tsan_ci || rc=1 ;;
    *) echo "usage: $0 [asan] [tsan] [asan-ci] [tsan-ci]" >&2; exit 2 ;;
  esac
done
exit $rc
