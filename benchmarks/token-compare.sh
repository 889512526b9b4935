#!/usr/bin/env bash
# token-compare.sh - a token stream three ways, on loopback: straight to the model server, through
# an `ssh -L` tunnel to it, and through the thunderlink pair. Time to first token and time per
# token, p50 and p95, and what each path adds over the straight one (the same-run baseline).
#
# The model server is the inference proxy's SIMULATED Ollama (no model server runs on build
# machines): 1000 tokens/s in real time, prompt evaluation instant, so the figures are what the
# path adds. The pair here is the workstation front, gRPC over loopback (plaintext; the daemons
# use mutual TLS) and the host's scheduler, as in PairLatencyMain.
#
# Usage: benchmarks/token-compare.sh [--runs 200] [--tokens 50] [--warm 0] [--out DIR] [--no-ssh]
#
# The pair is started as the daemons start it: with their start-up warm-up (inference-proxy's
# Warmup: 3000 one-token requests on a private loopback pair of its own, which `serve` and
# `connect` run in the background once ready unless `[inference] warmup = false`), and measured
# once that has ended, i.e. as a daemon up for some 20 s that has served no user request yet ("cold").
# -Dthunderlink.warmup.requests=N in TOKEN_COMPARE_JAVA_OPTS changes its size (0: none, as in
# jars before it). Then every path gets 30 warm-up requests (connections, the model load).
# Without the start-up warm-up, that leaves the code a request runs once (HTTP parsing, JSON, the
# gRPC call's start, the scheduler) interpreted or barely compiled: the pair runs far more of it
# than the simulator does, and that was most of what the pair added (about +3.5 ms idle, against
# +0.7-1.3 ms after --warm 10000). --warm N sends N more short (2-token) requests on every path,
# taking turns, before measuring: the figure for a daemon that has served that many. With
# TOKEN_COMPARE_JAR, the other jar must know --warm too.
#
# ssh runs against a private sshd on a spare 127.0.0.1 port with a throwaway host key and client
# key in a temp dir (as peer-compare.sh does); the machine's ssh configuration, keys and
# known_hosts are never read or changed. Without sshd (or with --no-ssh) the tunnel row is left
# out and the script says so. Needs the benchmarks jar:
#   mvn -B -ntp -pl benchmarks -am package -DskipTests
#
# TOKEN_COMPARE_JAR=/path/to/old/benchmarks.jar measures that jar too, in the same run: the two
# jars take turns (old, this, old, this: TOKEN_COMPARE_ROUNDS rounds, default 2) against the same
# simulator port and tunnel, so a change is judged against its baseline under the same load.
# Each measurement is a table of its own in the output, headed by its jar.
# TOKEN_COMPARE_JAVA_OPTS='-Dthunderlink.hops=true' adds a hop-by-hop table for the pair: where
# its first token's time goes (front, gRPC call, host, scheduler, upstream, and back).
set -euo pipefail

RUNS=200
TOKENS=50
WARM=0
OUT=""""
NO_SSH=0

die() { echo "token-compare: $*" >&2; exit 2; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) RUNS="${2:?--runs needs a value}"; shift 2 ;;
    --tokens) TOKENS="${2:?--tokens needs a value}"; shift 2 ;;
    --warm) WARM="${2:?--warm needs a value}"; shift 2 ;;
    --out) OUT="${2:?--out needs a value}"; shift 2 ;;
    --no-ssh) NO_SSH=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown option: $1 (expected: --runs, --tokens, --warm, --out, --no-ssh)" ;;
  esac
done
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "--runs: $RUNS (expected: an integer >= 1)"
[[ "$TOKENS" =~ ^[1-9][0-9]*$ && "$TOKENS" -ge 2 ]] || die "--tokens: $TOKENS (expected: an integer >= 2)"
[[ "$WARM" =~ ^[0-9]+$ ]] || die "--warm: $WARM (expected: an integer >= 0)"

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
JAR="$HERE/target/benchmarks.jar"
[[ -f "$JAR" ]] || die "missing $JAR (build it: mvn -B -ntp -pl benchmarks -am package -DskipTests)"
BASE_JAR="${TOKEN_COMPARE_JAR:-}"
ROUNDS="${TOKEN_COMPARE_ROUNDS:-2}"
[[ -z "$BASE_JAR" || -f "$BASE_JAR" ]] || die "TOKEN_COMPARE_JAR: $BASE_JAR (expected: an existing benchmarks.jar)"
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "TOKEN_COMPARE_ROUNDS: $ROUNDS (expected: an integer >= 1)"
command -v java >/dev/null || die "java not found (expected: a Java 17+ runtime on PATH)"
command -v ss >/dev/null || die "ss not found (expected: iproute2)"

T="$(mktemp -d "${TMPDIR:-/tmp}/token-compare.XXXXXX")"
OUT="${OUT:-$HERE/../bench-results}"
mkdir -p "$OUT"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$T"
}
trap cleanup EXIT
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

listening() { ss -Hltn "sport = :$1" | grep -q .; }
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$(( 20000 + RANDOM % 20000 ))
    if ! listening "$p"; then echo "$p"; return; fi
  done
  die "no free port found"
}
await_port() {
  for _ in $(seq 1 200); do
    if listening "$1"; then return 0; fi
    sleep 0.05
  done
  die "nothing listens on 127.0.0.1:$1 after 10 s ($2)"
}

SIM_PORT=$(free_port)
TUNNEL_ARGS=()
if [[ $NO_SSH == 0 ]] && command -v ssh >/dev/null && [[ -x /usr/sbin/sshd ]]; then
  mkdir -p "$T/ssh"; chmod 700 "$T/ssh"
  ssh-keygen -q -t ed25519 -N '' -f "$T/ssh/host_ed25519"
  ssh-keygen -q -t ed25519 -N '' -f "$T/ssh/client_ed25519"
  cp "$T/ssh/client_ed25519.pub" "$T/ssh/authorized_keys"
  SSH_PORT=$(free_port)
  cat >"$T/ssh/sshd_config" <<CONF
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $T/ssh/host_ed25519
PidFile $T/ssh/sshd.pid
AuthorizedKeysFile $T/ssh/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
AllowTcpForwarding yes
CONF
  [[ $(id -u) != 0 || -d /run/sshd ]] || mkdir -p /run/sshd
  /usr/sbin/sshd -D -e -f "$T/ssh/sshd_config" 2>"$T/ssh/sshd.log" & PIDS+=($!)
  await_port "$SSH_PORT" sshd
  SSH_OPTS=(-F /dev/null -i "$T/ssh/client_ed25519" -o IdentitiesOnly=yes -o BatchMode=yes
            -o StrictHostKeyChecking=no -o UserKnownHostsFile="$T/ssh/known_hosts" -o LogLevel=ERROR
            -o ExitOnForwardFailure=yes)
  TUNNEL_PORT=$(free_port)
  # The simulator is not up yet: ssh -L connects to it only when a client uses the tunnel.
  ssh "${SSH_OPTS[@]}" -N -p "$SSH_PORT" -L "127.0.0.1:$TUNNEL_PORT:127.0.0.1:$SIM_PORT" "$(id -un)@127.0.0.1" &
  PIDS+=($!)
  await_port "$TUNNEL_PORT" "ssh -L"
  CIPHER=$(ssh "${SSH_OPTS[@]}" -v -p "$SSH_PORT" "$(id -un)@127.0.0.1" true 2>&1 |
    sed -n 's/.*kex: client->server cipher: \([^ ]*\).*/\1/p' | head -1)
  log "ssh -L 127.0.0.1:$TUNNEL_PORT -> simulator 127.0.0.1:$SIM_PORT through a private sshd ($(ssh -V 2>&1 | cut -d, -f1), $CIPHER)"
  TUNNEL_ARGS=(--tunnel-port "$TUNNEL_PORT")
else
  log "no ssh tunnel row: $([[ $NO_SSH == 1 ]] && echo "--no-ssh" || echo "ssh or /usr/sbin/sshd missing (apt-get install openssh-client openssh-server)")"
fi

# measure JAR OUTFILE: one TokenCompare run with that jar's code on every path.
measure() {
  local warm=()
  [[ $WARM == 0 ]] || warm=(--warm "$WARM") # only when asked: a jar older than --warm runs the default
  log "measuring with $1: $RUNS requests per path, $TOKENS tokens each, $WARM extra warm-up (load average $(cut -d' ' -f1 /proc/loadavg))"
  java ${TOKEN_COMPARE_JAVA_OPTS:-} -cp "$1" dev.thunderlink.benchmarks.TokenCompare --simulator-port "$SIM_PORT" "${TUNNEL_ARGS[@]}" \
    --runs "$RUNS" --tokens "$TOKENS" "${warm[@]}" --out "$2" 2>"$T/java.log" ||
    { tail -20 "$T/java.log" >&2; die "the measurement failed (log above)"; }
}

if [[ -z "$BASE_JAR" ]]; then
  measure "$JAR" "$OUT/token-compare.md"
else
  : >"$T/all.md"
  for round in $(seq 1 "$ROUNDS"); do
    for which in baseline this; do
      jar=$([[ $which == baseline ]] && echo "$BASE_JAR" || echo "$JAR")
      measure "$jar" "$T/one.md"
      { echo "### round $round, $which jar: $jar"; echo; cat "$T/one.md"; echo; } >>"$T/all.md"
      grep 'thunderlink pair' "$T/one.md" | sed "s/^/[round $round, $which] /" >&2
    done
  done
  cp "$T/all.md" "$OUT/token-compare.md"
fi
log "written to $OUT/token-compare.md"
