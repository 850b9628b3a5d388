#!/usr/bin/env bash
# /open_session, /close_session and /generate's session_params on tiny-qwen3 (issue 28): see
# session_check.py. Exit 77 (CTest skip) without the model, curl, jq or python3.
set -u
BIN=$1; MODEL=$2
. "$(dirname "$0")/server_test_lib.sh"
serve_whole_script
$PY "$(dirname "$0")/session_check.py" $A || { tail -20 $TMP/log; exit 1; }
kill -0 $SRV || { echo "FAIL: the server died"; exit 1; }
