#!/usr/bin/env bash
# Propagation latency of one small edit under a mirror session, each way, with two real daemons
# on loopback (what the issue asks for: "both daemons on this machine"): from writing a file on
# one side until the other side's copy has the new content, N edits each way, after a warm-up.
# The workload is a generated source tree (the benchmarks' seeded generator, 20,000 files by
# default); the edited files are two of its files. The timing loop is a small Python 3 script
# (write, then read the other copy every 0.2 ms), the same for both directions.
#
# The warm-up (untimed edits each way, 5 ms apart) stands for a daemon that has been running: a
# fresh pair's first few thousand edits are slower while the JIT compiles (here p50 ~9 ms after
# 100 edits, ~5.5 ms after 6,000, on 2 cores).
#
# Usage: benchmarks/sync-latency.sh [--files N=20000] [--edits N=100] [--warm N=2000] [--keep]
# THUNDERLINK_JAR: the jar measured (default daemon/target/thunderlink.jar); TMPDIR: where the
# workspace goes. Needs jq and python3. Prints per direction p50, p90, p99 and max (ms), and the
# two daemons' CPU per edit over the timed edits (the 50 ms between edits included).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
LAUNCHER="$HERE/../thunderlink"
FILES=20000
EDITS=100
WARM=2000
KEEP=0
die() { echo "sync-latency: $*" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --files) FILES=$2; shift 2 ;;
    --edits) EDITS=$2; shift 2 ;;
    --warm) WARM=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option: $1 (expected: --files, --edits, --warm, --keep)" ;;
  esac
done
[[ "$FILES$EDITS$WARM" =~ ^[0-9]+$ ]] || die "--files, --edits and --warm take whole numbers"
(( EDITS >= 1 )) || die "--edits: $EDITS (expected: 1 or more)"
JAR="${THUNDERLINK_JAR:-$HERE/../daemon/target/thunderlink.jar}"
[[ -f "$JAR" ]] || die "missing $JAR (build it: mvn -B -ntp -q package -DskipTests)"
BENCH_JAR="$HERE/target/benchmarks.jar"
[[ -f "$BENCH_JAR" ]] || die "missing $BENCH_JAR (build it: mvn -B -ntp -q -pl benchmarks -am package -DskipTests)"
command -v jq >/dev/null || die "jq not found"
command -v python3 >/dev/null || die "python3 not found"
. "$HERE/lib/workspace.sh"
workspace sync-latency
tl() { THUNDERLINK_JAR="$JAR" "$LAUNCHER" "$@"; }
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log "generating $FILES files"
java -cp "$BENCH_JAR" dev.thunderlink.benchmarks.workload.TreeGenerator tree "$T/local" --files "$FILES" >&2
mkdir -p "$T/dst"
THUNDERLINK_JAR="$JAR" THUNDERLINK_METRICS_PORT=0 THUNDERLINK_BULK_PERMITTED_ROOTS="$T/dst" \
  "$LAUNCHER" serve --home "$T/host" --listen "127.0.0.1:$PORT" --no-inference >"$T/host.log" 2>&1 &
PIDS+=($!)
await "the host's control endpoint" 60 test -f "$T/host/control.json"
code=$(tl pair --home "$T/host" --json | jq -r '.code // empty')
[[ -n "$code" ]] || die "the host printed no pairing code"
tl pair --home "$T/ws" "127.0.0.1:$PORT" "$code" >&2
THUNDERLINK_JAR="$JAR" THUNDERLINK_METRICS_PORT=0 "$LAUNCHER" connect --home "$T/ws" --no-inference --no-discover \
  "127.0.0.1:$PORT" >"$T/ws.log" 2>&1 &
PIDS+=($!)
connected() { tl status --home "$T/ws" --json | jq -e '.peer.connected == true'; } # pipefail: no daemon, no pass
await "the workstation daemon to connect" 60 connected
log "initial sync"
tl sync create lat --home "$T/ws" --local "$T/local" --remote "$T/dst/tree" --wait --timeout 1800 --no-progress >&2
mapfile -t picked < <(cd "$T/local" && find . -type f -name '*.*' | sort | sed -n '1p;2p' | sed 's|^\./||')
(( ${#picked[@]} == 2 )) || die "the tree has fewer than two files"
cat >"$T/lat.py" <<'EOF'
import sys, time
src, dst, n, label = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
res = []
for i in range(n):
    c = f"{label} edit {i} {time.time_ns()}\n".encode()
    t0 = time.perf_counter()
    with open(src, "wb") as f:
        f.write(c)
    deadline = t0 + 30
    while True:
        try:
            with open(dst, "rb") as f:
                if f.read() == c:
                    break
        except OSError:
            pass
        if time.perf_counter() > deadline:
            sys.exit(f"{label}: {dst} did not get edit {i} within 30 s")
        time.sleep(0.0002)
    res.append((time.perf_counter() - t0) * 1000)
    time.sleep(0.005 if label.startswith("warm") else 0.05)  # timed: a person's or an agent's edits, not a storm
if label.startswith("warm"):
    sys.exit(0)
res.sort()
pick = lambda q: res[min(n - 1, max(0, -(-q * n // 100) - 1))]
print(f"{label}: n={n} p50 {pick(50):.1f} ms, p90 {pick(90):.1f} ms, p99 {pick(99):.1f} ms, max {res[-1]:.1f} ms")
EOF
a="${picked[0]}"; b="${picked[1]}"
if (( WARM > 0 )); then
  log "warm-up: $WARM edits each way"
  python3 "$T/lat.py" "$T/local/$a" "$T/dst/tree/$a" "$WARM" warm-ws
  python3 "$T/lat.py" "$T/dst/tree/$b" "$T/local/$b" "$WARM" warm-host
fi
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # the daemon's CPU so far, in clock ticks
tick_ms=$(( 1000 / $(getconf CLK_TCK) ))
timed() { # timed SRC DST LABEL: the edits, then the two daemons' CPU per edit over them
  local h0 w0 h1 w1
  h0=$(ticks "${PIDS[0]}"); w0=$(ticks "${PIDS[1]}")
  python3 "$T/lat.py" "$1" "$2" "$EDITS" "$3"
  h1=$(ticks "${PIDS[0]}"); w1=$(ticks "${PIDS[1]}")
  echo "$3: daemons' CPU per edit: host $(( (h1 - h0) * tick_ms * 1000 / EDITS )) us, workstation $(( (w1 - w0) * tick_ms * 1000 / EDITS )) us"
}
log "$EDITS edits each way"
timed "$T/local/$a" "$T/dst/tree/$a" "workstation -> host"
timed "$T/dst/tree/$b" "$T/local/$b" "host -> workstation"
