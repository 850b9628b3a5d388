#!/usr/bin/env bash
# Builds everything and runs the hardening checks of docs/reliability.md (every fuzz target for a
# fixed number of executions, and CI's share of the sanitizer runs: scripts/sanitize.sh asan-ci
# tsan-ci), then the whole test suite (unit, golden, integration, soak_short) through CTest, whose
# summary ends the output. Tests that need ../shared (models, golden references) skip with a
# message when it is absent. SGL_HARDENING=0 skips the hardening checks (a quick local run).
# Exits non-zero when anything failed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
hardening=skipped
if [ "${SGL_HARDENING:-1}" != 0 ]; then
  start=$(date +%s)
  hardening=passed
  if command -v clang++ >/dev/null; then
    SGL_FUZZ_RUNS=${SGL_FUZZ_RUNS:-3000} bash scripts/fuzz.sh || hardening=FAILED
  else
    echo "test: clang++ not found: fuzzing skipped (scripts/setup.sh installs clang)"
  fi
  bash scripts/sanitize.sh asan-ci tsan-ci || hardening=FAILED
  echo "test: hardening checks $hardening in $(($(date +%s) - start)) s"
fi
rc=0
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j "${JOBS:-$(nproc)}" --timeout 900 || rc=1
if [ "$hardening" = FAILED ]; then
  echo "test: the hardening checks FAILED (their output is above the test suite's)"
  rc=1
fi
exit $rc
