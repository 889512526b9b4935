#!/usr/bin/env bash
# cp-rss.sh - peak RSS of `thunderlink cp` (the CLI) and of the host daemon while one file is
# pushed over loopback: a host daemon (`serve`, homes in a temp dir, bulk writes allowed only
# there) and a workstation home paired with it by the real one-time code, as a user runs them.
#
# Usage: benchmarks/cp-rss.sh [SIZE_MIB]   (default 4096; the source file is kept in
#        ${CP_RSS_DIR:-/tmp/cp-rss} for reruns)
# Environment: THUNDERLINK_JAR (the jar to measure, e.g. an old build beside the new one) and
# THUNDERLINK_CLI_JVM_OPTS pass through to the ./thunderlink launcher.
# Prints cp's JSON summary (bytes, seconds), the CLI's maximum RSS (GNU time) and the host
# daemon's VmHWM, and checks the copy is identical.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
case "${1:-}" in -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;; esac
MIB=${1:-4096}
[[ "$MIB" =~ ^[1-9][0-9]*$ ]] || { echo "cp-rss: size in MiB expected, got: $MIB" >&2; exit 2; }
for t in jq /usr/bin/time; do command -v "$t" >/dev/null || { echo "cp-rss: $t not found (apt-get install jq time)" >&2; exit 2; }; done
D=${CP_RSS_DIR:-/tmp/cp-rss}
SRC="$D/random-${MIB}m"
mkdir -p "$D"
[[ -f "$SRC" ]] || { echo "making $SRC" >&2; head -c "$((MIB * 1024 * 1024))" /dev/urandom >"$SRC"; }
T=$(mktemp -d)
HOST_PID=""
cleanup() { [[ -n "$HOST_PID" ]] && kill "$HOST_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$T/dst"
# the launcher execs java, so $! is the daemon's JVM
THUNDERLINK_METRICS_PORT=0 THUNDERLINK_BULK_PERMITTED_ROOTS="$T/dst" \
  "$HERE/../thunderlink" serve --home "$T/host" --listen "127.0.0.1:$PORT" --no-inference >"$T/host.log" 2>&1 &
HOST_PID=$!
for _ in $(seq 300); do [[ -f "$T/host/control.json" ]] && break; sleep 0.1; done
[[ -f "$T/host/control.json" ]] || { tail "$T/host.log" >&2; echo "cp-rss: the host daemon did not start" >&2; exit 1; }
code=""
for _ in 1 2 3; do
  code=$("$HERE/../thunderlink" pair --home "$T/host" --json | jq -r '.code // empty') || true
  [[ -n "$code" ]] && break
done
[[ -n "$code" ]] || { echo "cp-rss: the host printed no pairing code" >&2; exit 1; }
"$HERE/../thunderlink" pair --home "$T/ws" "127.0.0.1:$PORT" "$code" >/dev/null
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/time -v "$HERE/../thunderlink" cp --home "$T/ws" --no-progress --json "$SRC" "host:$T/dst/copy" >"$T/cp.json" 2>"$T/time.txt"
echo "cp: $(jq -c '{bytes, seconds, encrypted}' "$T/cp.json")"
echo "cp CLI peak RSS: $(awk -F': ' '/Maximum resident/ { printf "%.0f MB", $2 / 1024 }' "$T/time.txt")"
echo "host daemon peak RSS: $(awk '/VmHWM/ { printf "%.0f MB", $2 / 1024 }' "/proc/$HOST_PID/status")"
cmp "$SRC" "$T/dst/copy" && echo "copy identical"
