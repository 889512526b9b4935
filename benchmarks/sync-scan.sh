#!/usr/bin/env bash
# The mirror's scans alone, A/B: one side's first scan (stat and hash every file, commit the
# index) and a full rescan (stat only) of one tree, each run in a fresh JVM with the daemons'
# JVM options (taken from ./thunderlink), alternating the two jars (A B B A ...).
# Usage: benchmarks/sync-scan.sh BASE.jar NEW.jar [PAIRS=4] [TREE]
#   TREE defaults to a generated 20,000-file tree (the peer-compare workload), kept for reruns.
# Prints per run: open, first scan and rescan (wall, scanning thread's CPU), then the process's
# wall/user/sys (hashing threads included) and the load.
# Needs: benchmarks/target/benchmarks.jar (mvn -B -ntp -pl benchmarks -am package -DskipTests).
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${1:?usage: sync-scan.sh BASE.jar NEW.jar [PAIRS] [TREE]}
NEW=${2:?usage: sync-scan.sh BASE.jar NEW.jar [PAIRS] [TREE]}
PAIRS=${3:-4}
BENCH=benchmarks/target/benchmarks.jar
[[ -f "$BENCH" ]] || { echo "missing $BENCH (mvn -B -ntp -pl benchmarks -am package -DskipTests)" >&2; exit 2; }
if [[ -n "${4:-}" ]]; then
  TREE=$4
else
  GEN=${TMPDIR:-/tmp}/sync-scan-workload # the tree, and beside it the mark that it is whole
  if [[ ! -f "$GEN/complete" ]]; then
    rm -rf "$GEN"
    java -cp "$BENCH" dev.thunderlink.benchmarks.workload.TreeGenerator tree "$GEN/tree" --files 20000 --min 1k \
      --max 16k --seed 20261126 >&2
    touch "$GEN/complete"
  fi
  TREE=$GEN/tree
fi
OPTS=$(sed -n 's/.*THUNDERLINK_DAEMON_JVM_OPTS-\(.*\)}"$/\1/p' thunderlink)
[[ -n "$OPTS" ]] || { echo "cannot read the daemons' JVM options from ./thunderlink" >&2; exit 2; }
set -f # the options hold * patterns (CompileCommand), never file names
for (( i = 1; i <= PAIRS; i++ )); do
  order=(base new); (( i % 2 == 0 )) && order=(new base)
  for v in "${order[@]}"; do
    jar=$BASE; [[ $v == new ]] && jar=$NEW
    printf '%s: %s; ' "$v" "$(/usr/bin/time -f 'process %e s wall, %U s user, %S s sys' \
      java $OPTS -cp "$jar:$BENCH" dev.thunderlink.benchmarks.SyncScanMeasure "$TREE" 2>&1 | grep -v ' timing - ' | paste -sd' ')"
    echo "load $(cut -d' ' -f1 /proc/loadavg)"
  done
done
