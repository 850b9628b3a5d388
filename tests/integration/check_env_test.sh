#!/usr/bin/env bash
# sglcpp-server --check-env on this machine (no server is started):
#  - plain: exit 0, the CPU model of /proc/cpuinfo, each ISA line "yes" iff /proc/cpuinfo lists the flag;
#  - --check-env-json: one JSON object with the same facts and "ok": true;
#  - --tp-size above the CPUs: a note, still exit 0;
#  - --device tpu: exit 1 naming tpu;
#  - the 480B preset on a machine with less memory than its weights: exit 1, "does not fit", the numbers;
#  - --device cuda without a driver (or in a CPU-only build): exit 1 saying so.
# Usage: check_env_test.sh BIN SOURCE_DIR SHARED_DIR
set -u
BIN=$1; SRC=$2; SHARED=$3
TMP=$(mktemp -d); fails=0
trap 'rm -rf $TMP' EXIT
fail() { echo "FAIL: $1"; fails=$((fails+1)); }
run() {  # run NAME ARGS...: output in $TMP/NAME.out, exit status in $rc
  local name=$1; shift
  "$BIN" "$@" >$TMP/$name.out 2>&1; rc=$?
}
value() { sed -n "s/^$2: *//p" $TMP/$1.out | head -1; }  # value NAME KEY

# Plain: exit 0, CPU facts as the kernel reports them.
run plain --check-env
[ $rc = 0 ] || { cat $TMP/plain.out; fail "--check-env: exit $rc, want 0"; }
for key in Version "Git commit" "CUDA backend" MemAvailable "CPUs online" "CUDA driver" "NCCL runtime"; do
  grep -q "^$key: " $TMP/plain.out || fail "--check-env prints no '$key:' line"
done
model=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -1)
if [ -n "$model" ]; then
  [ "$(value plain 'CPU model')" = "$model" ] || fail "CPU model '$(value plain 'CPU model')', /proc/cpuinfo says '$model'"
fi
[ "$(value plain 'CPUs online')" = "$(getconf _NPROCESSORS_ONLN)" ] || fail "CPUs online differs from getconf"
flags=" $(sed -n 's/^flags[[:space:]]*: *//p' /proc/cpuinfo | head -1) "
if [ "$flags" != "  " ]; then
  checked=0
  for f in fma avx2 avx512f avx512bw avx512vl avx512_vnni avx512_bf16 avx512_fp16 avx_vnni amx_tile amx_bf16 amx_int8; do
    got=$(value plain "ISA $f" | cut -d' ' -f1)
    case "$flags" in *" $f "*) want=yes ;; *) want=no ;; esac
    [ "$got" = "$want" ] || fail "ISA $f: '$got', /proc/cpuinfo says $want"
    checked=$((checked+1))
  done
  [ $checked = 12 ] || fail "checked $checked ISA lines"
fi
mem_kb=$(sed -n 's/^MemAvailable: *\([0-9]*\) kB/\1/p' /proc/meminfo)

# JSON: the same report as one object.
if command -v python3 >/dev/null; then
  run json --check-env-json
  [ $rc = 0 ] || fail "--check-env-json: exit $rc"
  python3 - $TMP/json.out "$(value plain 'ISA avx512f')" <<'PY' || fail "--check-env-json output"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["ok"] is True, j["findings"]
assert j["sglcpp"]["Version"], j["sglcpp"]
assert j["CPU"].get("ISA avx512f", "") == sys.argv[2], j["CPU"]
PY
fi

# More ranks than CPUs: a note, not a failure.
ranks=$(( $(getconf _NPROCESSORS_ONLN) * 2 ))
run ranks --check-env --tp-size $ranks
[ $rc = 0 ] || { cat $TMP/ranks.out; fail "--tp-size $ranks: exit $rc, want 0 (a note)"; }
grep -q "^note: .*--tp-size $ranks puts $ranks ranks" $TMP/ranks.out || fail "--tp-size $ranks: no note about the ranks"

# TPU: SGLang-JAX's device, not sglcpp's.
run tpu --check-env --device tpu
[ $rc = 1 ] || fail "--device tpu: exit $rc, want 1"
grep -q "^FATAL: .*--device tpu" $TMP/tpu.out || { cat $TMP/tpu.out; fail "--device tpu: no FATAL line naming tpu"; }

# The largest preset against this machine's memory (by name, through SGLCPP_CONF_DIR).
big=qwen3-coder-480b-a35b
tok=()
[ -d "$SHARED/models/qwen3-tokenizer" ] && tok=(--tokenizer-path "$SHARED/models/qwen3-tokenizer")
if [ "${mem_kb:-0}" -lt $((800 * 1024 * 1024)) ]; then
  SGLCPP_CONF_DIR=$SRC/conf "$BIN" --check-env --model-path $big "${tok[@]}" >$TMP/big.out 2>&1; rc=$?
  [ $rc = 1 ] || fail "$big: exit $rc, want 1"
  line=$(grep "^FATAL: --model-path $big does not fit" $TMP/big.out)
  [ -n "$line" ] || { cat $TMP/big.out; fail "$big: no 'does not fit' line"; }
  case "$line" in *"894.5 GiB while loading (480.2B parameters in bfloat16)"*) ;; *) fail "$big: weights not in '$line'" ;; esac
  # The memory it names is this machine's MemAvailable (within what moved meanwhile).
  avail=$(echo "$line" | sed -n 's/.*machine has \([0-9.]*\) GiB available.*/\1/p')
  [ -n "$avail" ] || fail "$big: no 'machine has N GiB available' in '$line'"
  ! command -v python3 >/dev/null ||
    python3 -c "import sys; a=float(sys.argv[1]); m=int(sys.argv[2])/2**20; sys.exit(abs(a-m) > 1.0)" "${avail:-0}" "$mem_kb" ||
    fail "$big: names ${avail:-nothing} GiB available, /proc/meminfo says $((mem_kb / 1024 / 1024)) GiB"
  [ ${#tok[@]} = 0 ] || [ "$(grep -c '^FATAL' $TMP/big.out)" = 1 ] || fail "$big: more than the fit failed"
else
  echo "note: MemAvailable holds the $big preset; its does-not-fit case is skipped"
fi

# CUDA without a driver (this machine) or without the backend compiled in.
run cuda --check-env --device cuda
if grep -q "^CUDA backend: *not compiled" $TMP/plain.out; then
  [ $rc = 1 ] && grep -q "^FATAL: --device cuda: the CUDA backend is not built" $TMP/cuda.out ||
    fail "--device cuda in a CPU-only build: exit $rc or no FATAL line"
elif grep -q "^CUDA driver: *no CUDA driver" $TMP/plain.out; then
  [ $rc = 1 ] || fail "--device cuda without a driver: exit $rc, want 1"
  grep -q "^FATAL: --device cuda: no CUDA driver" $TMP/cuda.out || { cat $TMP/cuda.out; fail "--device cuda: no 'no CUDA driver' line"; }
else
  grep -q "^GPU 0: " $TMP/cuda.out || fail "a driver but no 'GPU 0:' line"
fi

[ $fails = 0 ] && echo "check_env: all passed" || echo "check_env: $fails failure(s)"
exit $((fails > 0))
