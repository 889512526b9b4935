#!/usr/bin/env bash
# The mirror on one large file (BigFileBench): time, bytes sent and how often the file is
# read/written (x its size, page cache included) for the first copy, one-byte edits in the
# middle in each direction, and a 10-byte insertion near the start. Both sides run in one
# JVM over a real gRPC server on loopback. Usage: benchmarks/sync-bigfile.sh [MiB=1024] [rounds=3]
# DIR (default /tmp/sync-bigfile) holds the two copies (2 x MiB of disk).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${DIR:-/tmp/sync-bigfile}
mvn -B -ntp -q -o -pl sync -am test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test >/dev/null
rm -rf "$DIR"
java -Xmx512m -cp "sync/target/test-classes:sync/target/classes:$(cat sync/target/cp.txt)" \
  dev.thunderlink.sync.bench.BigFileBench "${1:-1024}" "${2:-3}" "$DIR" 2>/dev/null
rm -rf "$DIR"
