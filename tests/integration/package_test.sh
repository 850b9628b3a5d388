#!/usr/bin/env bash
# Install and package (issue 26), from a built tree:
#  1. `cmake --install` to a temporary prefix, moved elsewhere afterwards, still works: presets are
#     found relative to the executable (bench_one_batch on a preset with dummy weights; the server
#     on a preset with tiny-qwen3's tokenizer), no binary names the build tree, no test binaries.
#  2. `cpack -G DEB` makes sglcpp_<version>_<arch>.deb whose Depends are the Debian runtime
#     packages of the libraries the binaries link (no -dev, no CUDA), with the env file a conffile;
#     `apt-get install` of it puts the server, presets, docs and the systemd unit (which
#     systemd-analyze verifies) in place; the installed /usr/bin/sglcpp-server streams a chat
#     completion from tiny-qwen3 and exits 0 on SIGTERM; remove keeps the conffile, purge drops it.
# Part 2 needs root, apt-get and cpack (else it is skipped: exit 77 if part 1 passed), and it
# leaves the system as it found it (trap). Part 1's server run needs ../shared/models/tiny-qwen3.
set -u
BUILD=$(cd "$1" && pwd); MODEL=$2
for t in curl jq python3 readelf; do command -v $t >/dev/null || { echo "SKIP: needs $t"; exit 77; }; done
. "$(dirname "$0")/server_test_lib.sh"
TMP=$(mktemp -d)
INSTALLED=0; SUDO=""
cleanup() {
  [ -n "$PID" ] && kill -9 $PID 2>/dev/null
  if [ $INSTALLED = 1 ]; then
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get purge -y -o DPkg::Lock::Timeout=120 sglcpp >/dev/null 2>&1 ||
      $SUDO dpkg --purge sglcpp >/dev/null 2>&1
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
J='Content-Type: application/json'
ms() { python3 -c 'import time; print(int(time.time()*1000))'; }

# --- 1. A relocatable install tree.
echo "[${SECONDS}s] cmake --install to a prefix, then mv"
cmake --install "$BUILD" --prefix "$TMP/first" >$TMP/install.log 2>&1 || { cat $TMP/install.log; fail "cmake --install"; exit 1; }
mv "$TMP/first" "$TMP/moved"
R=$TMP/moved
for f in bin/sglcpp-server bin/bench_one_batch_server bin/bench_serving bin/bench_one_batch \
         share/sglcpp/conf/models/qwen3-0.6b.json share/doc/sglcpp/README.md share/doc/sglcpp/flags.md \
         lib/systemd/system/sglcpp.service etc/sglcpp/sglcpp.env; do
  [ -e "$R/$f" ] || fail "install tree lacks $f"
done
ls $R/bin | grep -E '^test_|^bench_(kernels|http|scheduler|sampler)$' && fail "test or micro-benchmark binaries installed"
for b in $R/bin/*; do
  readelf -d "$b" | grep -E 'R(UN)?PATH' | grep -qE "$BUILD|$(dirname "$BUILD")" &&
    fail "$(basename $b) has an RPATH into the build or source tree: $(readelf -d $b | grep -E 'R(UN)?PATH')"
  readelf -d "$b" | grep NEEDED | grep -qE 'libcublas|libcudart|libnccl' &&
    fail "$(basename $b) links a CUDA library at load time (not a Debian package)"
done
cd "$TMP"  # no ./conf here: the preset must come from the moved tree
"$R/bin/bench_one_batch" --model-path qwen3-0.6b --load-format dummy --model-layer-nums 1 --batch-size 1 \
  --input-len 8 --output-len 2 --result-filename '' >$TMP/bob.log 2>&1 ||
  fail "moved bench_one_batch on the qwen3-0.6b preset: $(tail -3 $TMP/bob.log)"
"$R/bin/bench_one_batch" --model-path no-such-preset --load-format dummy >$TMP/bob_err.log 2>&1 &&
  fail "an unknown preset was accepted"
grep -q "$R/share/sglcpp/conf/models" $TMP/bob_err.log ||
  fail "the unknown-preset error does not name the moved tree's conf: $(tail -2 $TMP/bob_err.log)"
mkdir -p $TMP/myconf/models && cp $R/share/sglcpp/conf/models/qwen3-0.6b.json $TMP/myconf/models/mine.json
SGLCPP_CONF_DIR=$TMP/myconf "$R/bin/bench_one_batch" --model-path mine --load-format dummy --model-layer-nums 1 \
  --batch-size 1 --input-len 8 --output-len 2 --result-filename '' >$TMP/bob_env.log 2>&1 ||
  fail "SGLCPP_CONF_DIR preset: $(tail -3 $TMP/bob_env.log)"
"$R/bin/bench_serving" --help >/dev/null 2>&1 || fail "moved bench_serving --help"
if [ -d "$MODEL" ]; then
  BIN=$R/bin/sglcpp-server
  if start qwen3-0.6b --load-format dummy --model-layer-nums 1 --tokenizer-path "$MODEL"; then
    curl -sf $BASE/generate -H "$J" -d '{"text":"hi","sampling_params":{"max_new_tokens":3,"ignore_eos":true}}' |
      jq -e '.meta_info.completion_tokens==3' >/dev/null || fail "moved server on a preset: /generate"
    stop
  fi
else
  echo "note: $MODEL absent, the moved server run is skipped"
fi
rm -rf "$R"
cd - >/dev/null

# --- 2. The .deb, installed with apt-get.
# A CI runner that is not root but may sudo without a password installs through sudo, as setup.sh.
SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"; fi
if { [ "$(id -u)" != 0 ] && [ -z "$SUDO" ]; } || ! command -v apt-get >/dev/null || ! command -v cpack >/dev/null ||
   ! command -v dpkg-deb >/dev/null || ! command -v dpkg-shlibdeps >/dev/null; then
  echo "SKIP: the .deb part needs root (or password-less sudo), apt-get, cpack, dpkg-deb and dpkg-shlibdeps (part 1: $fails failure(s))"
  [ $fails = 0 ] && exit 77 || exit 1
fi
if dpkg -s sglcpp >/dev/null 2>&1; then
  echo "SKIP: a package named sglcpp is already installed; not replacing it (part 1: $fails failure(s))"
  [ $fails = 0 ] && exit 77 || exit 1
fi
[ -d "$MODEL" ] || { echo "SKIP: $MODEL absent (part 1: $fails failure(s))"; [ $fails = 0 ] && exit 77 || exit 1; }
echo "[${SECONDS}s] cpack -G DEB"
t0=$(ms)
cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$TMP/pkg" >$TMP/cpack.log 2>&1 ||
  { cat $TMP/cpack.log; fail "cpack"; exit 1; }
echo "cpack took $(( $(ms) - t0 )) ms"
DEB=$(ls $TMP/pkg/sglcpp_*.deb 2>/dev/null | head -1)
[ -f "$DEB" ] || { fail "no sglcpp_*.deb in $TMP/pkg"; exit 1; }
dpkg-deb -I "$DEB" >$TMP/info
field() { dpkg-deb -f "$DEB" "$1"; }
[ "$(field Package)" = sglcpp ] || fail "Package: $(field Package)"
[ -n "$(field Version)" ] && [ -n "$(field Maintainer)" ] && [ -n "$(field Section)" ] || fail "control lacks a field: $(cat $TMP/info)"
DEPENDS=$(field Depends)
echo "Depends: $DEPENDS"
[ -n "$DEPENDS" ] || fail "empty Depends"
echo "$DEPENDS" | tr ',' '\n' | grep -E -- '-dev\b' && fail "Depends names a -dev package"
echo "$DEPENDS" | grep -Ei 'cuda|cublas|nvidia|nccl' && fail "Depends names a CUDA package"
# Every library the server and tools load, by its Debian package, is in Depends.
dpkg-deb -x "$DEB" $TMP/root
for b in $TMP/root/usr/bin/*; do
  for lib in $(readelf -d "$b" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p'); do
    path=$(ldconfig -p | awk -v l="$lib" '$1==l && /x86-64|64bit|AArch64/ {print $NF; exit}')
    [ -n "$path" ] || path=$(ldconfig -p | awk -v l="$lib" '$1==l {print $NF; exit}')
    [ -n "$path" ] || { fail "$(basename $b): $lib not found by ldconfig"; continue; }
    pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "$path" 2>/dev/null)
    pkg=${pkg%%:*}
    [ -n "$pkg" ] || { fail "$lib ($path) belongs to no package"; continue; }
    case $pkg in libc6|libgcc-s1|libstdc++6) continue ;; esac  # dpkg-shlibdeps may name these via others
    # The library's shlibs may name a virtual package it provides (libspdlog1.10 → libspdlog1.10-fmt9).
    names="$pkg $(dpkg-query -W -f='${Provides}' "$pkg" 2>/dev/null | tr ',' '\n' | sed 's/(.*//')"
    found=0
    for n in $names; do echo "$DEPENDS" | tr ',' '\n' | grep -qE "^ *$n( |\$)" && found=1; done
    [ $found = 1 ] || fail "$(basename $b) links $lib ($pkg), not in Depends"
  done
done
dpkg-deb -I "$DEB" conffiles | grep -qx /etc/sglcpp/sglcpp.env || fail "sglcpp.env is not a conffile"

echo "[${SECONDS}s] apt-get install $(basename $DEB)"
INSTALLED=1
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=120 "$DEB" \
  >$TMP/apt.log 2>&1 || { tail -20 $TMP/apt.log; fail "apt-get install"; exit 1; }
for f in /usr/bin/sglcpp-server /usr/bin/bench_serving /usr/share/sglcpp/conf/models/qwen3-0.6b.json \
         /usr/share/doc/sglcpp/README.md /usr/lib/systemd/system/sglcpp.service /etc/sglcpp/sglcpp.env; do
  [ -e "$f" ] || fail "the package did not install $f"
done
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify /usr/lib/systemd/system/sglcpp.service >$TMP/verify.log 2>&1 ||
    fail "systemd-analyze verify sglcpp.service: $(cat $TMP/verify.log)"
fi

echo "[${SECONDS}s] /usr/bin/sglcpp-server: one streamed chat completion, then SIGTERM"
BIN=/usr/bin/sglcpp-server
start "$MODEL" || exit 1
curl -sN -m 60 $BASE/v1/chat/completions -H "$J" -d '{"model":"m","stream":true,"max_tokens":8,"ignore_eos":true,
  "messages":[{"role":"user","content":"Hello"}]}' >$TMP/stream; rc=$?
[ $rc = 0 ] || fail "stream: curl exit $rc"
[ "$(grep '^data: ' $TMP/stream | tail -1)" = "data: [DONE]" ] || fail "stream does not end with [DONE]: $(tail -c 300 $TMP/stream)"
grep '^data: {' $TMP/stream | sed 's/^data: //' | jq -se '
  (.[0].choices[0].delta.role=="assistant") and
  ([.[] | .choices[0].delta.content // empty] | length >= 1) and
  ([.[] | .choices[0].finish_reason // empty] == ["length"]) and
  (all(.[]; .object=="chat.completion.chunk"))' >/dev/null || fail "stream chunks: $(head -c 600 $TMP/stream)"
kill -TERM $PID; wait $PID; rc=$?; PID=""
[ $rc = 0 ] || fail "installed server: exit status $rc after SIGTERM"

echo "[${SECONDS}s] apt-get remove, then purge"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get remove -y -o DPkg::Lock::Timeout=120 sglcpp >$TMP/apt.log 2>&1 || fail "apt-get remove"
[ -e /usr/bin/sglcpp-server ] && fail "remove left /usr/bin/sglcpp-server"
[ -e /etc/sglcpp/sglcpp.env ] || fail "remove deleted the conffile /etc/sglcpp/sglcpp.env"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get purge -y -o DPkg::Lock::Timeout=120 sglcpp >$TMP/apt.log 2>&1 || fail "apt-get purge"
[ -e /etc/sglcpp/sglcpp.env ] && fail "purge left /etc/sglcpp/sglcpp.env"
dpkg -s sglcpp >/dev/null 2>&1 && fail "sglcpp still known to dpkg after purge"
INSTALLED=0; SUDO=""

echo "[${SECONDS}s] $fails failure(s)"
[ $fails = 0 ]
