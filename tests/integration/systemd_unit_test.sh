#!/usr/bin/env bash
# deploy/systemd/sglcpp.service and sglcpp.env, without installing anything:
#  - systemd-analyze verify accepts the unit with no warning (its ExecStart pointed at the built
#    binary, since /usr/bin/sglcpp-server is not installed here), and does warn on a broken copy,
#    so the check is real;
#  - TimeoutStopSec leaves room for the default --graceful-shutdown-timeout + the 5 s abort window;
#  - every flag the env file mentions is one of sglcpp-server's (docs/flags.md).
# Exit 77 (CTest skip) without systemd-analyze.
set -u
BIN=$1; SRC=$2
command -v systemd-analyze >/dev/null || { echo "SKIP: needs systemd-analyze"; exit 77; }
fails=0
fail() { echo "FAIL: $1"; fails=$((fails+1)); }
TMP=$(mktemp -d)
trap 'rm -rf $TMP' EXIT
UNIT=$SRC/deploy/systemd/sglcpp.service
ENVF=$SRC/deploy/systemd/sglcpp.env

# verify <unit file>: systemd-analyze's complaints about that file (empty when none).
verify() { systemd-analyze verify "$1" 2>&1 | grep -F "$(basename "$1")"; }
sed "s#^ExecStart=/usr/bin/sglcpp-server#ExecStart=$BIN#" "$UNIT" >$TMP/sglcpp.service
grep -q "^ExecStart=$BIN \$SGLCPP_ARGS\$" $TMP/sglcpp.service || fail "ExecStart is not /usr/bin/sglcpp-server \$SGLCPP_ARGS"
out=$(verify $TMP/sglcpp.service)
[ -z "$out" ] || fail "systemd-analyze verify: $out"
sed -e 's/^Restart=on-failure/Restart=sometimes/' -e 's/^NoNewPrivileges=yes/NoNewPrivilege=yes/' \
  $TMP/sglcpp.service >$TMP/broken.service
[ "$(verify $TMP/broken.service | wc -l)" -ge 2 ] || fail "premise: systemd-analyze verify did not flag a broken unit"

for key in "EnvironmentFile=/etc/sglcpp/sglcpp.env" "KillSignal=SIGTERM" "Restart=on-failure" "DynamicUser=yes" \
           "NoNewPrivileges=yes" "ProtectSystem=strict"; do
  grep -qx "$key" "$UNIT" || fail "the unit lacks $key"
done
grace=$(grep -F '| `--graceful-shutdown-timeout`' $SRC/docs/flags.md | awk -F'|' '{gsub(/[ `]/, "", $3); print $3}')
stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)$/\1/p' "$UNIT")
[ -n "$grace" ] && [ -n "$stop" ] || fail "premise: grace '$grace' or TimeoutStopSec '$stop' not found"
python3 -c "import sys; sys.exit(0 if $stop >= $grace + 5 + 5 else 1)" ||
  fail "TimeoutStopSec=$stop leaves no room for --graceful-shutdown-timeout $grace + the 5 s abort window"

grep -q '^SGLCPP_ARGS="--model-path [^"]*"$' "$ENVF" || fail "sglcpp.env does not set SGLCPP_ARGS with --model-path"
for flag in $(grep -oE -- '--[a-z][a-z-]+' "$ENVF" | grep -vx -- --help | sort -u); do
  grep -qF "\`$flag\`" $SRC/docs/flags.md || fail "sglcpp.env names $flag, which sglcpp-server does not have"
done

echo "$fails failure(s)"
[ $fails = 0 ]
