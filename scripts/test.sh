#!/usr/bin/env bash
# Builds everything and runs the whole test suite (unit, golden, integration, soak_short) through
# CTest, then the hardening checks of docs/reliability.md: every fuzz target for a fixed number of
# executions, and CI's share of the sanitizer runs (scripts/sanitize.sh asan-ci tsan-ci).
# Tests that need ../shared (models, golden references) skip with a message when it is absent.
# SGL_HARDENING=0 skips the hardening checks (a quick local run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j "${JOBS:-$(nproc)}" --timeout 900
if [ "${SGL_HARDENING:-1}" != 0 ]; then
  start=$(date +%s)
  if command -v clang++ >/dev/null; then
    SGL_FUZZ_RUNS=${SGL_FUZZ_RUNS:-3000} bash scripts/fuzz.sh
  else
    echo "test: clang++ not found: fuzzing skipped (scripts/setup.sh installs clang)"
  fi
  bash scripts/sanitize.sh asan-ci tsan-ci
  echo "test: hardening checks took $(($(date +%s) - start)) s"
fi
