#!/usr/bin/env bash
# `thunderlink ping` over loopback beside a raw TCP echo on the same machine, in one run.
# Usage: benchmarks/ping-vs-echo.sh [COUNT]     (prints both, then the p50 and p99 ratios)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
COUNT="${1:-5000}"
cd "$ROOT"
mvn -B -ntp -q -DskipTests -pl daemon,benchmarks -am package >&2
DIR="$(mktemp -d)"
trap 'kill "${DEMO_PID:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$DIR"' EXIT
java -jar daemon/target/thunderlink.jar demo --dir "$DIR" --duration 600 >"$DIR/demo.out" 2>"$DIR/demo.err" &
DEMO_PID=$!
for _ in $(seq 1 300); do grep -q "Try, in another terminal" "$DIR/demo.out" 2>/dev/null && break; sleep 0.1; done
grep -q "Try, in another terminal" "$DIR/demo.out" || { cat "$DIR/demo.err" >&2; exit 1; }
# warm-up, then the measured run (back to back, active path = loopback "tb")
java -jar daemon/target/thunderlink.jar ping --home "$DIR/workstation" -c "$COUNT" -i 0 --json >/dev/null
PING="$(java -jar daemon/target/thunderlink.jar ping --home "$DIR/workstation" -c "$COUNT" -i 0 --json)"
ECHO="$(java -cp benchmarks/target/benchmarks.jar dev.thunderlink.benchmarks.EchoLatency "$COUNT" 32)"
python3 - "$PING" "$ECHO" <<'PY'
import json, sys
p, e = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"thunderlink ping (gRPC, mTLS, path {p['path']}): p50 {p['p50_us']:.1f} us  p99 {p['p99_us']:.1f} us  ({p['received']} pings)")
print(f"raw TCP echo (blocking, loopback):          p50 {e['p50_us']:.1f} us  p99 {e['p99_us']:.1f} us  ({e['count']} round trips)")
print(f"ratio thunderlink/raw: p50 {p['p50_us']/e['p50_us']:.2f}x  p99 {p['p99_us']/e['p99_us']:.2f}x")
PY
