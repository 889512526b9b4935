#!/usr/bin/env bash
# A one-byte edit in a large file under a mirror session, both directions, two real daemons per
# jar on loopback: how long `sync flush` takes to return once the byte was changed (CLI start
# included), the daemons' CPU over it, and the bytes that crossed the link between the daemons
# (every TCP connection on the host's link port, gRPC and bulk plane, from `ss`: the
# workstation's to the host, the host's to the workstation). With --baseline-jar a second pair of
# daemons runs that jar, each edit alternating with the other jar's (A B, B A, ...).
#
# Usage: benchmarks/sync-edit-compare.sh [--size MiB=1024] [--rounds N=3] [--baseline-jar JAR] [--keep]
# THUNDERLINK_JAR: the jar measured (default daemon/target/thunderlink.jar); TMPDIR: where the
# workspace goes (the file four times). Needs jq and ss.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
LAUNCHER="$HERE/../thunderlink"
MIB=1024
ROUNDS=3
BASE_JAR=""
KEEP=0
die() { echo "sync-edit-compare: $*" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --size) MIB=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --baseline-jar) BASE_JAR=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    *) die "unknown option: $1 (expected: --size, --rounds, --baseline-jar, --keep)" ;;
  esac
done
NEW_JAR="${THUNDERLINK_JAR:-$HERE/../daemon/target/thunderlink.jar}"
[[ -f "$NEW_JAR" ]] || die "missing $NEW_JAR (build it: mvn -B -ntp -o -q package -DskipTests)"
[[ -z "$BASE_JAR" || -f "$BASE_JAR" ]] || die "missing $BASE_JAR"
command -v jq >/dev/null || die "jq not found"
VARIANTS=(new)
[[ -n "$BASE_JAR" ]] && VARIANTS=(base new)
. "$HERE/lib/workspace.sh"
workspace sync-edit-compare
now() { date +%s.%N; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { printf "%.2f", NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
jar_of() { [[ $1 == base ]] && echo "$BASE_JAR" || echo "$NEW_JAR"; }
tl() { local v=$1; shift; THUNDERLINK_JAR="$(jar_of "$v")" "$LAUNCHER" "$@"; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
connected() { tl "$1" status --home "$T/$1/ws" --json | jq -e '.peer.connected == true'; }
declare -A PORT=() DPIDS=()
start() { # start VARIANT: its host daemon, pairing, its workstation daemon, and the session's initial sync
  local v=$1 code try
  PORT[$v]=$(free_port)
  mkdir -p "$T/$v/local" "$T/dst/$v"
  THUNDERLINK_JAR="$(jar_of "$v")" THUNDERLINK_METRICS_PORT=0 THUNDERLINK_BULK_PERMITTED_ROOTS="$T/dst" \
    "$LAUNCHER" serve --home "$T/$v/host" --listen "127.0.0.1:${PORT[$v]}" --no-inference >"$T/$v-host.log" 2>&1 &
  PIDS+=($!); DPIDS[$v]+="$! "
  await "the $v host's control endpoint" 60 test -f "$T/$v/host/control.json"
  for try in 1 2 3; do
    code=$(tl "$v" pair --home "$T/$v/host" --json | jq -r '.code // empty') || true
    [[ -n "$code" ]] && break
  done
  [[ -n "$code" ]] || die "the $v host printed no pairing code"
  tl "$v" pair --home "$T/$v/ws" "127.0.0.1:${PORT[$v]}" "$code" >&2
  THUNDERLINK_JAR="$(jar_of "$v")" THUNDERLINK_METRICS_PORT=0 "$LAUNCHER" connect --home "$T/$v/ws" --no-inference \
    --no-discover "127.0.0.1:${PORT[$v]}" >"$T/$v-ws.log" 2>&1 &
  PIDS+=($!); DPIDS[$v]+="$! "
  await "the $v workstation daemon to connect" 60 connected "$v"
  cp "$T/big.bin" "$T/$v/local/big.bin"
  log "$v: initial sync of ${MIB} MiB"
  tl "$v" sync create --home "$T/$v/ws" --local "$T/$v/local" --remote "$T/dst/$v/tree" edit >&2
  tl "$v" sync flush --home "$T/$v/ws" --timeout 1800 edit >&2
  cmp "$T/$v/local/big.bin" "$T/dst/$v/tree/big.bin" || die "$v: the initial sync differs"
}
cpu() { # cpu VARIANT: CPU seconds (user + system) of its daemons so far
  local pid ticks=0
  for pid in ${DPIDS[$1]}; do
    ticks=$(( ticks + $(sed 's/^.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }') ))
  done
  awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}
link_bytes() { # link_bytes VARIANT: per open connection on the host's link port, "peer to-host from-host" bytes so far
  ss -Htin state established "( sport = :${PORT[$1]} )" | tr -s ' \t' '\n' |
    awk -F: '/^\[|^[0-9.]+:[0-9]+$/ { peer = $0 } $1 == "bytes_received" { r[peer] = $2 }
      $1 == "bytes_sent" { s[peer] = $2 } END { for (p in r) print p, r[p], s[p] }'
}
link_delta() { # link_delta BEFORE AFTER: "to-host from-host" bytes between two link_bytes snapshots; a
  # connection opened in between counts from 0, one closed in between is not counted (its last bytes are lost)
  awk 'NR == FNR { r[$1] = $2; s[$1] = $3; next } { up += $2 - r[$1]; down += $3 - s[$1] } END { printf "%d %d", up, down }' \
    <(printf '%s\n' "$1") <(printf '%s\n' "$2")
}
flip() { # flip FILE OFFSET: one byte changed in place
  local b
  b=$(dd if="$1" bs=1 skip="$2" count=1 status=none | od -An -tu1 | tr -d ' ')
  printf "$(printf '\\%03o' $(( (b + 1) % 256 )))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
declare -A WALL=() CPU=() UP=() DOWN=()
edit() { # edit VARIANT push|pull ROUND: one byte changed on the sending side, then `sync flush`
  local v=$1 dir=$2 r=$3 src dst c0 c1 b0 b1 a z bytes
  src=$T/$v/local/big.bin; dst=$T/dst/$v/tree/big.bin
  [[ $dir == pull ]] && { src=$T/dst/$v/tree/big.bin; dst=$T/$v/local/big.bin; }
  c0=$(cpu "$v"); b0=$(link_bytes "$v")
  a=$(now)
  flip "$src" $(( (MIB << 19) + r * 4099 ))
  tl "$v" sync flush --home "$T/$v/ws" --timeout 600 edit >&2
  z=$(now)
  c1=$(cpu "$v"); b1=$(link_bytes "$v")
  cmp "$src" "$dst" || die "$v $dir: the edit did not arrive"
  WALL[$v.$dir]+="$(awk -v a="$a" -v b="$z" 'BEGIN { printf "%.2f", b - a }') "
  CPU[$v.$dir]+="$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }') "
  read -r -a bytes <<<"$(link_delta "$b0" "$b1")"
  UP[$v.$dir]+="${bytes[0]} "
  DOWN[$v.$dir]+="${bytes[1]} "
}

log "workspace $T; load $(cut -d' ' -f1-3 /proc/loadavg)"
head -c $(( MIB << 20 )) /dev/urandom >"$T/big.bin"
for v in "${VARIANTS[@]}"; do start "$v"; done
sleep 2 # the initial sync's echo settles
for (( r = 1; r <= ROUNDS; r++ )); do
  for dir in push pull; do
    order=("${VARIANTS[@]}")
    (( r % 2 == 0 && ${#VARIANTS[@]} == 2 )) && order=(new base)
    [[ $dir == pull && ${#VARIANTS[@]} == 2 ]] && order=("${order[1]}" "${order[0]}")
    for v in "${order[@]}"; do log "round $r: $v $dir"; edit "$v" "$dir" "$r"; done
  done
done
echo "## One-byte edit in a ${MIB} MiB file, mirror session on loopback ($(nproc) cores, load after $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "| jar | direction | flush wall s (median) | daemons' CPU s (median) | bytes to host (median) | bytes to workstation (median) | runs: wall / CPU / to host / to ws |"
echo "|---|---|---:|---:|---:|---:|---|"
for v in "${VARIANTS[@]}"; do
  for dir in push pull; do
    k=$v.$dir
    echo "| $v $(basename "$(jar_of "$v")") | $dir | $(median ${WALL[$k]}) | $(median ${CPU[$k]}) | $(median ${UP[$k]} | cut -d. -f1) | $(median ${DOWN[$k]} | cut -d. -f1) | ${WALL[$k]% } / ${CPU[$k]% } / ${UP[$k]% } / ${DOWN[$k]% } |"
  done
done
