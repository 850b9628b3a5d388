#!/usr/bin/env bash
# Builds everything and runs the whole test suite (unit, golden, integration) through CTest.
# Tests that need ../shared (models, golden references) skip with a message when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j "${JOBS:-$(nproc)}" --timeout 900
