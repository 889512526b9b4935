#!/usr/bin/env bash
# Issue 7's lifecycle figures with real daemons from the jar on loopback (the host serves the
# Ollama SIMULATOR, not a model server): (1) a /metrics sample of both daemons after real work
# (generations, a mirror, a copy), showing the queue-wait, time-to-first-token and
# sync-propagation histograms; (2) the time from SIGTERM to exit of the host during a large
# copy and a long token stream, with what each client was told and the partial kept.
# Build first: mvn -B -ntp -pl daemon -am package -DskipTests
# Knobs: GRACE (service.shutdown_grace_s, default 10), SIZE_MB (copy size, default 4096),
# PORT/HOST_METRICS/WS_METRICS/API/HOST_API (free ports), WORK (scratch directory).
set -euo pipefail
cd "$(dirname "$0")/.."
W=${WORK:-/tmp/tl-shutdown}
PORT=${PORT:-7431}; HM=${HOST_METRICS:-9431}; WM=${WS_METRICS:-9432}; API=${API:-11491}; HAPI=${HOST_API:-11492}
GRACE=${GRACE:-10}; SIZE_MB=${SIZE_MB:-4096}
TL="java -XX:+UseSerialGC -jar daemon/target/thunderlink.jar"
rm -rf "$W"; mkdir -p "$W/in"
export THUNDERLINK_BULK_PERMITTED_ROOTS="$W"
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
until_ok() { for _ in $(seq 1 300); do if eval "$1" >/dev/null 2>&1; then return 0; fi; sleep 0.2; done; echo "timed out: $1" >&2; exit 1; }

THUNDERLINK_METRICS_PORT=$HM THUNDERLINK_SERVICE_SHUTDOWN_GRACE_S=$GRACE THUNDERLINK_INFERENCE_HOST_API_PORT=$HAPI \
  $TL serve --home "$W/host" --listen "127.0.0.1:$PORT" --simulator 2>"$W/host.err" & HOSTPID=$!; pids+=($HOSTPID)
until_ok "test -f '$W/host/control.json'"
CODE=$($TL pair --home "$W/host" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')
$TL pair "127.0.0.1:$PORT" "$CODE" --home "$W/ws" >/dev/null
THUNDERLINK_METRICS_PORT=$WM THUNDERLINK_INFERENCE_API_PORT=$API \
  $TL connect "127.0.0.1:$PORT" --home "$W/ws" --no-discover 2>"$W/ws.err" & WSPID=$!; pids+=($WSPID)
until_ok "curl -sf 127.0.0.1:$API/api/version"
echo "load: $(uptime)"

echo "== real work: 3 generations, a mirror of 3 changes, a 64 MiB copy"
for i in 1 2 3; do
  curl -sf "127.0.0.1:$API/api/generate" -d '{"model":"llama3.2:3b","prompt":"hi","stream":false,"options":{"num_predict":16}}' >/dev/null
done
mkdir -p "$W/proj"; echo a >"$W/proj/a.txt"
$TL sync create proj --home "$W/ws" --local "$W/proj" --remote "$W/proj-host" >/dev/null
$TL sync flush proj --home "$W/ws" --timeout 30 >/dev/null
mkdir -p "$W/proj/src"; echo b >"$W/proj/src/b.txt"; echo c >"$W/proj/c.txt"
$TL sync flush proj --home "$W/ws" --timeout 30 >/dev/null
head -c 64M /dev/urandom >"$W/small.bin"
$TL cp --home "$W/ws" "$W/small.bin" "host:$W/in/small.bin" | tail -1
sleep 1.5 # the byte counters are polled once a second; the histograms are fed as things happen
echo "== host /metrics (excerpt)"
curl -s "127.0.0.1:$HM/metrics" | grep -E '^thunderlink_(inference_(queue_wait|time_to_first_token)_seconds_(bucket\{[^}]*le="(0.001|0.01|0.1|1.0|2.5|5.0|\+Inf)"|count|sum)|sent_bytes_total|inference_model_loads_total)'
echo "== workstation /metrics (excerpt)"
curl -s "127.0.0.1:$WM/metrics" | grep -E '^thunderlink_(sync_propagation_seconds_(bucket\{le="(0.01|0.05|0.1|0.25|1.0|\+Inf)"\}|count|sum)|path_rtt_seconds|sync_pending_changes)'

echo "== SIGTERM to the host during a ${SIZE_MB} MiB copy and a long token stream (grace $GRACE s)"
head -c "${SIZE_MB}M" /dev/urandom >"$W/big.bin"
curl -sN "127.0.0.1:$API/api/generate" -d '{"model":"llama3.2:3b","prompt":"a lot","options":{"num_predict":100000}}' >"$W/stream.ndjson" & pids+=($!)
$TL cp --home "$W/ws" --failover-timeout 0 "$W/big.bin" "host:$W/in/big.bin" >"$W/cp.out" 2>&1 & CPPID=$!
until_ok "test \$(stat -c %s '$W/in/.big.bin.tlpart' 2>/dev/null || echo 0) -gt 67108864"
t0=$(date +%s%N); kill -TERM "$HOSTPID"; wait "$HOSTPID" || true; t1=$(date +%s%N)
echo "host: SIGTERM to exit $(( (t1 - t0) / 1000000 )) ms (grace $GRACE s)"
wait "$CPPID" || true
echo "cp printed:     $(grep '^failed:' "$W/cp.out" | sed "s|$W|\$W|g")"
echo "stream ended:   $(tail -1 "$W/stream.ndjson")"
echo "partial kept:   $(( $(stat -c %s "$W/in/.big.bin.tlpart") >> 20 )) of $SIZE_MB MiB in \$W/in/.big.bin.tlpart"
echo "host log:       $(grep -o 'shutdown: .*' "$W/host.err" | sed "s|$W|\$W|g")"
echo "load: $(uptime)"
