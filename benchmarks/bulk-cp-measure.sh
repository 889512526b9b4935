#!/usr/bin/env bash
# Figures for the bulk plane and `thunderlink cp` on one machine: iperf3 single-stream
# loopback (the limit), then the cp logic (Copier over a real LinkServer + PeerLink on
# loopback, CpLoopbackBench) on a 1 GiB random file, a 20,000-file text tree, and the peak
# RSS of a 4 GiB copy. Both ends run in one JVM, so every byte is hashed twice on this
# machine's cores. Build first: mvn -B -ntp -pl daemon -am package -DskipTests
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-/tmp/cpbench}          # source files (disk)
WORK=${WORK:-/dev/shm/cpbench}      # host root and ids (memory: takes the disk out)
J="java -Xmx256m -cp daemon/target/thunderlink.jar dev.thunderlink.daemon.cp.CpLoopbackBench"
[ -f "$DATA/src/random-1g" ] || $J --make-random "$DATA/src/random-1g" 1024
[ -f "$DATA/src4/random-4g" ] || $J --make-random "$DATA/src4/random-4g" 4096
[ -d "$DATA/tree/proj" ] || $J --make-tree "$DATA/tree/proj" 20000
echo "load: $(uptime)"
for i in 1 2 3; do
  iperf3 -s -1 -D >/dev/null 2>&1; sleep 0.3
  iperf3 -c 127.0.0.1 -t 5 -J | python3 -c "import json,sys; d=json.load(sys.stdin); print('iperf3 Gbit/s %.2f' % (d['end']['sum_sent']['bits_per_second']/1e9))"
done
rm -rf "$WORK"
echo "== push 1 GiB (plaintext)"; $J --work "$WORK" --src "$DATA/src/random-1g" --runs 5 2>/dev/null | grep '"run"'
echo "== push 1 GiB (TLS)";       $J --work "$WORK" --src "$DATA/src/random-1g" --runs 3 --tls 2>/dev/null | grep '"run"'
echo "== pull 1 GiB (plaintext)"; $J --work "$WORK" --src "$DATA/src/random-1g" --runs 3 --pull 2>/dev/null | grep '"run"'
echo "== push 20k tree";          $J --work "$WORK" --src "$DATA/tree/proj" --runs 3 2>/dev/null | grep '"run"'
echo "== pull 20k tree";          $J --work "$WORK" --src "$DATA/tree/proj" --runs 2 --pull 2>/dev/null | grep '"run"'
rm -rf "$WORK"
for dir in push pull; do
  flag=""; [ $dir = pull ] && flag="--pull"
  echo "== $dir 4 GiB, peak RSS (-Xmx256m, both ends in one JVM)"
  /usr/bin/time -f "wall %e s, user %U s, sys %S s, peak RSS %M KB" \
    $J --work "$DATA/work-4g" --src "$DATA/src4/random-4g" --runs 1 $flag 2>&1 | grep -E '"run"|RSS'
  rm -rf "$DATA/work-4g"
done
echo "load: $(uptime)"
