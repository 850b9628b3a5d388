#!/usr/bin/env bash
# Starts one sglcpp-server per host of a hostfile as the nodes of one deployment (host i is
# --node-rank i, host 0 also the rendezvous at --dist-init-addr), keeps each node's output in a
# log file, reports when node 0's HTTP server is up, and stops every node when any one of them
# ends or when this script is told to stop (SIGINT/SIGTERM). Docs: docs/deploy.md.
#
# How a remote node is stopped, even when this script is killed with SIGKILL or its connection
# drops: ssh's stdin is a pipe that only a small keeper process of ours holds open. The remote
# wrapper watches that stdin; at EOF (keeper gone, ssh gone, connection gone) it sends the
# server SIGTERM, and SIGKILL after --stop-timeout. No pty (ssh -tt) and no pid files needed.
set -uo pipefail

usage() {
  cat <<'EOF'
Usage: launch-multinode.sh [OPTIONS] HOSTFILE -- SERVER FLAGS...

HOSTFILE: one host per line ([user@]host); '#' starts a comment; blank lines are skipped.
The first host is node 0: it serves HTTP and, unless FLAGS give --dist-init-addr, the rendezvous
at HOST0:--dist-port. Every host runs
  sglcpp-server FLAGS... --nnodes N --node-rank I --dist-init-addr HOST0:PORT

Options:
  --log-dir DIR        node-<rank>.log and launcher.log go here (default ./sglcpp-logs-<time>)
  --server-bin PATH    the server on the remote hosts (default: sglcpp-server on their PATH)
  --ssh "CMD"          the ssh command, split on spaces (default: $SGLCPP_SSH, else ssh); not
                       -n or -f: stopping a node relies on ssh's stdin staying connected
  --env NAME=VALUE     set in the servers' environment (repeatable)
  --dist-port PORT     rendezvous port on host 0 when FLAGS give no --dist-init-addr (20000)
  --wait-healthy SECS  fail (stop every node, exit 1) unless node 0's /health is 200 within SECS
  --stop-timeout SECS  how long a stopping node gets before SIGKILL (default 45)
Exit status: 0 when every node ended cleanly, 1 when a node failed, 2 on a usage error.
EOF
}

say() {
  printf '[launch] %s\n' "$*" >&2
  if [ -n "${LAUNCH_LOG:-}" ]; then printf '%s %s\n' "$(date '+%F %T')" "$*" >>"$LAUNCH_LOG"; fi
}
die() {
  printf '[launch] error: %s\n' "$*" >&2
  exit 2
}

# --- options ---------------------------------------------------------------------------------
LOG_DIR="" SERVER_BIN=sglcpp-server SSH_CMD=${SGLCPP_SSH:-ssh} DIST_PORT=20000
WAIT_HEALTHY="" STOP_TIMEOUT=45 HOSTFILE=""
ENVS=()
need_value() { [ "$2" -ge 2 ] || die "$1 needs a value"; }
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
while [ $# -gt 0 ]; do
  case $1 in
    --log-dir) need_value "$1" $#; LOG_DIR=$2; shift 2 ;;
    --server-bin) need_value "$1" $#; SERVER_BIN=$2; shift 2 ;;
    --ssh) need_value "$1" $#; SSH_CMD=$2; shift 2 ;;
    --env)
      need_value "$1" $#
      [[ $2 =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || die "--env wants NAME=VALUE, got '$2'"
      ENVS+=("$2"); shift 2 ;;
    --dist-port) need_value "$1" $#; DIST_PORT=$2; shift 2 ;;
    --wait-healthy) need_value "$1" $#; WAIT_HEALTHY=$2; shift 2 ;;
    --stop-timeout) need_value "$1" $#; STOP_TIMEOUT=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    --) shift; break ;;
    -*) die "unknown option $1 (server flags go after --; see --help)" ;;
    *) [ -z "$HOSTFILE" ] || die "one HOSTFILE only (server flags go after --)"; HOSTFILE=$1; shift ;;
  esac
done
FLAGS=("$@")
[ -n "$HOSTFILE" ] || { usage >&2; exit 2; }
[ -r "$HOSTFILE" ] || die "cannot read the hostfile $HOSTFILE"
if ! is_uint "$DIST_PORT" || [ "$DIST_PORT" -lt 1 ] || [ "$DIST_PORT" -gt 65535 ]; then die "--dist-port: $DIST_PORT"; fi
[ -z "$WAIT_HEALTHY" ] || is_uint "$WAIT_HEALTHY" || die "--wait-healthy wants seconds, got $WAIT_HEALTHY"
is_uint "$STOP_TIMEOUT" || die "--stop-timeout wants seconds, got $STOP_TIMEOUT"
read -r -a SSH_ARGV <<<"$SSH_CMD"
if [ ${#SSH_ARGV[@]} -eq 0 ] || ! command -v "${SSH_ARGV[0]}" >/dev/null; then
  die "ssh command not found: '$SSH_CMD'"
fi
for word in "${SSH_ARGV[@]:1}"; do
  # Only ssh's argument-less flags may be combined in one word (-nT); -o/-i/... take values.
  [[ $word =~ ^-[46AaCfGgKkMNnqsTtVvXxYy]+$ && $word == *[nf]* ]] && die "--ssh '$SSH_CMD': -n / -f detach ssh's stdin, which the launcher needs to stop the nodes"
done

# --- hostfile ----------------------------------------------------------------------------------
HOSTS=()
lineno=0
while IFS= read -r line || [ -n "$line" ]; do
  lineno=$((lineno + 1))
  line=${line%%#*}
  read -r -a words <<<"$line"
  [ ${#words[@]} -eq 0 ] && continue
  [ ${#words[@]} -eq 1 ] || die "$HOSTFILE:$lineno: one host per line, got '$line'"
  HOSTS+=("${words[0]}")
done <"$HOSTFILE"
N=${#HOSTS[@]}
[ "$N" -ge 1 ] || die "$HOSTFILE lists no host"
HOST0=${HOSTS[0]#*@}

# --- flags: the launcher owns --nnodes / --node-rank; keep a given --dist-init-addr ---------------
# The server accepts unique prefixes (argparse style), so '--nnode 2' is --nnodes too.
is_flag() { [ ${#1} -ge "$3" ] && [[ $2 == "$1"* ]]; }
INIT_ADDR=""
SERVER_FLAGS=()
for ((k = 0; k < ${#FLAGS[@]}; k++)); do
  arg=${FLAGS[k]} name=${FLAGS[k]%%=*} value=""
  if [[ $arg == *=* ]]; then value=${arg#*=}; else value=${FLAGS[k + 1]:-}; fi
  if is_flag "$name" --nnodes 4; then
    [ "$value" = "$N" ] || die "FLAGS give --nnodes '$value' but $HOSTFILE lists $N host(s)"
    [[ $arg == *=* ]] || k=$((k + 1))
    continue  # added below for every node
  elif is_flag "$name" --node-rank 5; then
    die "FLAGS give --node-rank: the launcher sets it per host (host i of $HOSTFILE is rank i)"
  elif is_flag "$name" --dist-init-addr 8 || is_flag "$name" --nccl-init-addr 8; then
    INIT_ADDR=$value
    [ -n "$INIT_ADDR" ] || die "FLAGS give an empty --dist-init-addr"
    [[ $arg == *=* ]] || k=$((k + 1))
    continue
  fi
  SERVER_FLAGS+=("$arg")
done
if [ -z "$INIT_ADDR" ]; then
  HOST0=${HOST0#[}
  HOST0=${HOST0%]}
  if [[ $HOST0 == *:* ]]; then INIT_ADDR="[$HOST0]:$DIST_PORT"; else INIT_ADDR="$HOST0:$DIST_PORT"; fi
fi

# --- logs ----------------------------------------------------------------------------------------
[ -n "$LOG_DIR" ] || LOG_DIR="./sglcpp-logs-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$LOG_DIR" || die "cannot create the log directory $LOG_DIR"
LAUNCH_LOG="$LOG_DIR/launcher.log"
RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sglcpp-launch.XXXXXX") || die "mktemp failed"

# --- the remote command ----------------------------------------------------------------------------
# POSIX single quotes: the remote login shell may be any sh; bash then reads the %q-quoted script.
sq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
remote_command() {
  local rank=$1 script="set -u; exec 3<&0 </dev/null; " e q=""
  for e in "${ENVS[@]}"; do script+="export ${e%%=*}=$(printf '%q' "${e#*=}"); "; done
  printf -v q ' %q' "$SERVER_BIN" "${SERVER_FLAGS[@]}" --nnodes "$N" --node-rank "$rank" --dist-init-addr "$INIT_ADDR"
  script+="${q# } 3<&- & pid=\$!; "
  script+="echo \"[launch] node $rank on \$(hostname): pid \$pid\" >&2; "
  # stdin EOF: the launcher, its keeper or the connection is gone → stop the server.
  script+="{ while read -r -u 3 _; do :; done; kill -TERM \$pid; t=0; "
  script+="while kill -0 \$pid && [ \$t -lt $((STOP_TIMEOUT * 10)) ]; do sleep 0.1; t=\$((t + 1)); done; "
  script+="kill -KILL \$pid; } >/dev/null 2>&1 & watcher=\$!; "
  script+="wait \$pid; rc=\$?; kill \$watcher 2>/dev/null; exit \$rc"
  printf 'bash -c %s' "$(sq "$script")"
}

# --- start -------------------------------------------------------------------------------------------
SSH_PID=() KEEPER_PID=() RC=() STOPPED=()
start_node() {
  local i=$1
  local log="$LOG_DIR/node-$i.log" fifo="$RUN_DIR/stdin-$i" cmd
  cmd=$(remote_command "$i")
  mkfifo "$fifo" || die "mkfifo $fifo failed"
  printf '[launch] node %d of %d on %s: %s\n' "$i" "$N" "${HOSTS[i]}" "$cmd" >"$log"
  "${SSH_ARGV[@]}" "${HOSTS[i]}" "$cmd" <"$fifo" >>"$log" 2>&1 &
  SSH_PID[i]=$!
  # The keeper holds ssh's stdin open while this script lives (checked each second, so a SIGKILL
  # of this script stops the nodes too); its sleep must not hold the pipe.
  (
    exec 3>"$fifo"
    rm -f "$fifo"  # both ends are open: the name is no longer needed
    while kill -0 "$LAUNCHER_PID" 2>/dev/null; do sleep 1 3>&-; done
  ) >/dev/null 2>&1 &
  KEEPER_PID[i]=$!
  RC[i]=""
  STOPPED[i]=""
}
LAUNCHER_PID=$$
STOP_SIGNAL="" SIGNALS=0
trap 'STOP_SIGNAL=SIGTERM; SIGNALS=$((SIGNALS + 1))' TERM
trap 'STOP_SIGNAL=SIGINT; SIGNALS=$((SIGNALS + 1))' INT
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  local p
  for p in "${KEEPER_PID[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$RUN_DIR"
}
trap cleanup EXIT

say "$N node(s); rendezvous at $INIT_ADDR; logs in $LOG_DIR (tail -f $LOG_DIR/node-*.log)"
for ((i = 0; i < N; i++)); do start_node "$i"; done

# Collects the exit status of every node whose ssh ended; true while any of `$@` still runs.
running() {
  local i any=1
  for i in "$@"; do
    [ -z "${RC[i]}" ] || continue
    if kill -0 "${SSH_PID[i]}" 2>/dev/null; then any=0; continue; fi
    wait "${SSH_PID[i]}"
    RC[i]=$?
    say "node $i (${HOSTS[i]}) exited with status ${RC[i]}"
  done
  return $any
}
ALL=()
for ((i = 0; i < N; i++)); do ALL+=("$i"); done

# --- node 0's readiness -------------------------------------------------------------------------------
# The server logs "Serving on http://H:P" when it listens and "fired up and ready" once /health
# turns 200; we then ask /health itself on host 0 (bash's /dev/tcp: works whatever --host binds).
READY="" LISTEN=""
TIMEOUT=()
if command -v timeout >/dev/null; then TIMEOUT=(timeout 20); fi
health_ok() {
  local host=${LISTEN%:*} port=${LISTEN##*:} out
  case $host in 0.0.0.0 | "") host=127.0.0.1 ;; "[::]" | "::") host=::1 ;; esac
  host=${host#[}
  host=${host%]}
  local probe="exec 3<>/dev/tcp/$host/$port && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 && head -c 64 <&3"
  out=$("${TIMEOUT[@]}" "${SSH_ARGV[@]}" "${HOSTS[0]}" "bash -c $(sq "$probe")" </dev/null 2>/dev/null)
  [[ $out == HTTP/1.?\ 200* ]]
}
check_ready() {
  local log="$LOG_DIR/node-0.log" line url
  if [ -z "$LISTEN" ]; then
    line=$(grep -m1 -o 'Serving on http://[^ ]*' "$log" 2>/dev/null) || return 0
    LISTEN=${line#Serving on http://}
  fi
  grep -q 'fired up and ready' "$log" 2>/dev/null || return 0
  health_ok || return 0
  READY=1
  case ${LISTEN%:*} in
    0.0.0.0 | "[::]" | ::) url="http://$HOST0:${LISTEN##*:}" ;;
    127.* | localhost | "[::1]") url="http://$LISTEN (loopback on $HOST0; --host 0.0.0.0 serves other machines)" ;;
    *) url="http://$LISTEN" ;;
  esac
  say "node 0 is ready (/health 200): $url"
}

# --- watch -------------------------------------------------------------------------------------------
STARTED=$SECONDS HEALTH_FAILED=""
while running "${ALL[@]}"; do
  ended=""
  for i in "${ALL[@]}"; do [ -z "${RC[i]}" ] || ended=$i; done
  [ -z "$ended" ] || { say "node $ended ended: stopping every node"; break; }
  [ -z "$STOP_SIGNAL" ] || { say "$STOP_SIGNAL: stopping every node"; break; }
  [ -n "$READY" ] || check_ready
  if [ -z "$READY" ] && [ -n "$WAIT_HEALTHY" ] && [ $((SECONDS - STARTED)) -ge "$WAIT_HEALTHY" ]; then
    say "node 0 not healthy within --wait-healthy $WAIT_HEALTHY s: stopping every node"
    HEALTH_FAILED=1
    break
  fi
  sleep 0.5
done

# --- stop: node 0 first (it drains its requests while the other nodes still serve its steps) ----
stop_nodes() {
  local i
  for i in "$@"; do
    [ -n "${RC[i]}" ] && continue
    STOPPED[i]=1
    kill "${KEEPER_PID[i]}" 2>/dev/null
  done
  local deadline=$((SECONDS + STOP_TIMEOUT + 5)) signals=$SIGNALS
  while running "$@" && [ $SECONDS -lt $deadline ] && [ "$SIGNALS" = "$signals" ]; do sleep 0.2; done
}
stop_nodes 0
stop_nodes "${ALL[@]}"
for i in "${ALL[@]}"; do
  if [ -z "${RC[i]}" ]; then
    # Closing the connection makes the remote side see EOF and stop the server on its own.
    say "node $i (${HOSTS[i]}) did not stop within --stop-timeout $STOP_TIMEOUT s: closing its ssh; check the host"
    kill -KILL "${SSH_PID[i]}" 2>/dev/null
    wait "${SSH_PID[i]}" 2>/dev/null
    RC[i]=killed
  fi
done

# --- verdict -------------------------------------------------------------------------------------------
status=0
for i in "${ALL[@]}"; do
  rc=${RC[i]}
  # A node we stopped may end by our SIGTERM (143); every other non-zero status is a failure.
  if [ "$rc" = 0 ] || { [ -n "${STOPPED[i]}" ] && [ "$rc" = 143 ]; }; then continue; fi
  status=1
  say "node $i (${HOSTS[i]}) failed (status $rc); last lines of $LOG_DIR/node-$i.log:"
  tail -n 5 "$LOG_DIR/node-$i.log" | sed 's/^/    /' >&2
done
[ -z "$HEALTH_FAILED" ] || status=1
say "all nodes stopped; exit status $status"
exit $status
