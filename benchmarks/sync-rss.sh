#!/usr/bin/env bash
# Memory and idle CPU of the two daemons with a large tree mirrored, the way a user runs them:
# a host daemon (`serve`) and a paired workstation daemon (`connect`) on loopback, one
# two-way session of an N-file tree (`sync create`, then `sync flush`). Then, after a settle
# pause, VmRSS/VmHWM of each daemon and the CPU each uses over IDLE_S seconds of idleness
# (utime+stime from /proc/PID/stat: no polling means close to 0).
# Usage: benchmarks/sync-rss.sh [FILES=100000] [IDLE_S=30]   (JVM options: THUNDERLINK_JAVA_OPTS)
# SETTLE_S (default 5): the pause before the idle window. Right after a large first sync the
# daemons are not idle yet: the optimizing compiler works through the methods the sync queued
# for it (with 100,000 files, for minutes on 2 cores) and G1 returns heap; SETTLE_S=180 measures
# the idleness that follows.
# Needs: daemon/target/thunderlink.jar (built if missing), python3, jq, ss.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
IDLE_S=${2:-30}
T=${T:-${TMPDIR:-/tmp}/sync-rss} # TMPDIR: e.g. benchmarks/fresh-ext4.sh --size 8g -- benchmarks/sync-rss.sh
JAR=${JAR:-daemon/target/thunderlink.jar}
[[ -f "$JAR" ]] || mvn -B -ntp -q -DskipTests -pl daemon -am package >&2
tl() { java ${THUNDERLINK_JAVA_OPTS:-} -jar "$JAR" "$@"; }
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
await() { # await WHAT TIMEOUT_S COMMAND...
  local deadline=$(( $(date +%s) + $2 )) what=$1; shift 2
  until "$@"; do
    (( $(date +%s) < deadline )) || { echo "timed out waiting for $what" >&2; tail -n 20 "$T"/*.log >&2; exit 1; }
    sleep 0.1
  done
}
listening() { ss -Hltn "sport = :$1" | grep -q .; }
TREE=${TREE:-$T-tree-$N} # generated once, kept for reruns
rm -rf "$T"; mkdir -p "$T/dst"
[[ -f "$TREE/.complete" ]] || { rm -rf "$TREE"; python3 - "$TREE" "$N" <<'PY'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(20261126)
words = "the if else return for while int long final public class import value path file hash sync".split()
for i in range(n):
    d = os.path.join(root, "m%02d" % (i // 5000), "p%03d" % ((i // 50) % 100))
    if i % 50 == 0:
        os.makedirs(d, exist_ok=True)
    size = rnd.randint(200, 4000)
    text = []
    while sum(map(len, text)) < size:
        text.append(" ".join(rnd.choice(words) for _ in range(10)) + "\n")
    with open(os.path.join(d, "f%06d.txt" % i), "w") as f:
        f.write("".join(text)[:size])
PY
touch "$TREE/.complete"; }
mkdir -p "$T/src"; cp -a "$TREE"/m* "$T/src/"
echo "tree: $N files, $(du -sh "$T/src" | cut -f1)"
PORT=$(( 20000 + RANDOM % 20000 )); while listening "$PORT"; do PORT=$(( 20000 + RANDOM % 20000 )); done
THUNDERLINK_METRICS_PORT=0 THUNDERLINK_BULK_PERMITTED_ROOTS="$T/dst" \
  java ${THUNDERLINK_JAVA_OPTS:-} -jar "$JAR" serve --home "$T/host" --listen "127.0.0.1:$PORT" --no-inference \
  >"$T/host.log" 2>&1 & HOST=$!; PIDS+=($HOST)
await "the host's control endpoint" 60 test -f "$T/host/control.json"
code=$(tl pair --home "$T/host" --json | jq -r '.code // empty')
tl pair --home "$T/ws" "127.0.0.1:$PORT" "$code" >/dev/null
THUNDERLINK_METRICS_PORT=0 java ${THUNDERLINK_JAVA_OPTS:-} -jar "$JAR" connect --home "$T/ws" --no-inference \
  --no-discover "127.0.0.1:$PORT" >"$T/ws.log" 2>&1 & WS=$!; PIDS+=($WS)
connected() { # (jq -e succeeds on empty input: check the command first)
  local o; o=$(tl status --home "$T/ws" --json 2>/dev/null) || return 1
  jq -e '.peer.connected == true' <<<"$o" >/dev/null
}
await "the workstation to connect" 120 connected
a=$(date +%s.%N)
tl sync create --home "$T/ws" --local "$T/src" --remote "$T/dst/tree" rss >/dev/null
tl sync flush --home "$T/ws" --timeout 1800 rss >/dev/null
b=$(date +%s.%N)
echo "initial sync (create + flush, JVM starts of the CLI included): $(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.1f", b-a}') s"
diff -rq "$T/src" "$T/dst/tree" >/dev/null || { echo "trees differ after flush" >&2; exit 1; }
sleep "${SETTLE_S:-5}" # let the last scans, index writes and GC settle
mem() { awk '/VmRSS|VmHWM|RssAnon|RssFile/ {printf "%s %d MB  ", $1, $2/1024}' "/proc/$1/status"; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
echo "after ${SETTLE_S:-5} s:"
echo "host daemon:        $(mem $HOST)"
echo "workstation daemon: $(mem $WS)"
h0=$(ticks $HOST); w0=$(ticks $WS); sleep "$IDLE_S"; h1=$(ticks $HOST); w1=$(ticks $WS)
hz=$(getconf CLK_TCK)
awk -v d=$((h1 - h0)) -v hz="$hz" -v s="$IDLE_S" 'BEGIN{printf "host idle CPU:        %.2f s over %d s (%.2f%% of one core)\n", d/hz, s, 100*d/hz/s}'
awk -v d=$((w1 - w0)) -v hz="$hz" -v s="$IDLE_S" 'BEGIN{printf "workstation idle CPU: %.2f s over %d s (%.2f%% of one core)\n", d/hz, s, 100*d/hz/s}'
echo "after ${IDLE_S} s idle (G1's periodic collection may have returned heap by now):"
echo "host daemon:        $(mem $HOST)"
echo "workstation daemon: $(mem $WS)"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ -n "${LIVE:-}" ]] && command -v jcmd >/dev/null; then # what is live (this forces a full GC in each daemon)
  for p in $HOST $WS; do
    echo "--- pid $p: largest live classes"; jcmd "$p" GC.class_histogram | sed -n '4,12p'
    echo "after the full GC: $(mem "$p")"
    # with THUNDERLINK_JAVA_OPTS=-XX:NativeMemoryTracking=summary: where the rest of the RSS is
    jcmd "$p" VM.native_memory summary 2>/dev/null | grep -E '^-|committed=' | grep -E 'Total|Java Heap|Class|Thread|Code|GC|Internal|Other|Arena|Symbol|Malloc' | head -14 || true
  done
fi
