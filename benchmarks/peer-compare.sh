#!/usr/bin/env bash
# peer-compare.sh - the tools people use today, side by side, on one workload, on loopback.
#
# Runs, in one go and on the same generated workload, whichever of these are installed:
#   iperf3 (the path's limit), cp (the disk's limit, no network), scp, rsync over ssh,
#   rsync daemon, unison over ssh, syncthing (two local instances), an `ssh -L` tunnel
#   (throughput via iperf3, round trip via RttProbe: the shape of a token stream), and
#   thunderlink: `thunderlink cp` to a host daemon paired on loopback, and a `thunderlink sync`
#   session's initial sync of the tree (needs jq; builds daemon/target/thunderlink.jar if missing).
# Writes one markdown table (stdout and OUT/peer-compare.md; OUT defaults to bench-results/).
#
# Usage: benchmarks/peer-compare.sh [--install] [--size 1g] [--files 20000]
#                                   [--min 1k] [--max 16k] [--only LIST] [--out DIR] [--keep]
#                                   [--baseline-jar OLD.jar]
#   --install   apt-get install the missing Debian packages first (nothing is installed without it)
#   --only      comma-separated subset: iperf3,cp,scp,rsync-ssh,rsync-daemon,unison,syncthing,
#               ssh-tunnel,thunderlink,thunderlink-sync
#   --baseline-jar  also run the thunderlink-sync row with another build of thunderlink.jar (e.g.
#               main's), first, with its own daemons and homes: old and new in one run, same load
#
# Everything listens on 127.0.0.1 only. ssh runs against a private sshd started on a spare port
# with a throwaway host key and client key in a temp dir; the machine's ssh configuration, keys
# and known_hosts are never read or changed (as root, sshd needs /run/sshd, created if missing).
# The workload comes from the benchmarks jar (same seeded generator as the JMH benchmarks):
#   mvn -B -ntp -pl benchmarks -am package -DskipTests
set -euo pipefail

SIZE=1g
FILES=20000
MIN=1k
MAX=16k
ONLY=""
OUT=""
KEEP=0
INSTALL=0
BASELINE_JAR=""
SEED=20261126

die() { echo "peer-compare: $*" >&2; exit 2; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --install) INSTALL=1; shift ;;
    --size) SIZE="${2:?--size needs a value}"; shift 2 ;;
    --files) FILES="${2:?--files needs a value}"; shift 2 ;;
    --min) MIN="${2:?--min needs a value}"; shift 2 ;;
    --max) MAX="${2:?--max needs a value}"; shift 2 ;;
    --only) ONLY="${2:?--only needs a value}"; shift 2 ;;
    --out) OUT="${2:?--out needs a value}"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --baseline-jar) BASELINE_JAR="${2:?--baseline-jar needs a value}"; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown option: $1 (expected: --install, --size, --files, --min, --max, --only, --out, --keep, --baseline-jar)" ;;
  esac
done

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[[ -z "$BASELINE_JAR" || -f "$BASELINE_JAR" ]] || die "--baseline-jar: $BASELINE_JAR (expected: an existing thunderlink.jar)"
JAR="$HERE/target/benchmarks.jar"
[[ -f "$JAR" ]] || die "missing $JAR (build it: mvn -B -ntp -pl benchmarks -am package -DskipTests)"
command -v ss >/dev/null || die "ss not found (expected: iproute2)"
command -v java >/dev/null || die "java not found (expected: a Java 17+ runtime on PATH)"

wanted() { [[ -z "$ONLY" || ",$ONLY," == *",$1,"* ]]; }

# ---------------------------------------------------------------- packages
if [[ $INSTALL == 1 ]]; then
  missing=()
  command -v iperf3 >/dev/null || missing+=(iperf3)
  command -v rsync >/dev/null || missing+=(rsync)
  command -v ssh >/dev/null || missing+=(openssh-client)
  [[ -x /usr/sbin/sshd ]] || missing+=(openssh-server)
  command -v unison >/dev/null || missing+=(unison)
  command -v syncthing >/dev/null || missing+=(syncthing)
  if [[ ${#missing[@]} -gt 0 ]]; then
    SUDO=""; [[ $(id -u) == 0 ]] || SUDO=sudo
    echo "installing: ${missing[*]}" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
fi

# ---------------------------------------------------------------- workspace and cleanup
T="$(mktemp -d "${TMPDIR:-/tmp}/peer-compare.XXXXXX")"
OUT="${OUT:-$HERE/../bench-results}"
mkdir -p "$OUT"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ $KEEP == 0 ]]; then rm -rf "$T"; else echo "kept $T" >&2; fi
}
trap cleanup EXIT
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# A port nothing listens on yet.
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$(( 20000 + RANDOM % 20000 ))
    if ! listening "$p"; then echo "$p"; return; fi
  done
  die "no free port found"
}

# Waits until something listens on 127.0.0.1:$1 (at most 10 s). Looks with ss instead of
# connecting: a probe connection would count as iperf3's one client and break its first test.
listening() { ss -Hltn "sport = :$1" | grep -q .; }
await_port() {
  for _ in $(seq 1 200); do
    if listening "$1"; then return 0; fi
    sleep 0.05
  done
  die "nothing listens on 127.0.0.1:$1 after 10 s ($2)"
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# ---------------------------------------------------------------- workload
log "generating workload in $T (random file $SIZE, tree of $FILES files $MIN-$MAX, seed $SEED)"
mkdir -p "$T/src"
java -cp "$JAR" dev.thunderlink.benchmarks.workload.TreeGenerator random "$T/src/random.bin" --size "$SIZE" --seed "$SEED" >&2
java -cp "$JAR" dev.thunderlink.benchmarks.workload.TreeGenerator tree "$T/src/tree" \
  --files "$FILES" --min "$MIN" --max "$MAX" --seed "$SEED" >&2
FILE_BYTES=$(stat -c %s "$T/src/random.bin")
TREE_BYTES=$(find "$T/src/tree" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
TREE_FILES=$(find "$T/src/tree" -type f | wc -l)
sync

declare -A FILE_S TREE_S NOTE
ORDER=()
record() { # record TOOL FILE_SECONDS TREE_SECONDS NOTE
  ORDER+=("$1"); FILE_S[$1]="$2"; TREE_S[$1]="$3"; NOTE[$1]="${4:-}"
}

fresh_dst() { rm -rf "$T/dst"; mkdir -p "$T/dst"; sync; }

verify_file() { cmp -s "$T/src/random.bin" "$1" || die "$2: copied file differs from the source"; }
verify_tree() {
  diff -rq "$T/src/tree" "$1" >/dev/null || die "$2: copied tree differs from the source"
}

# Times "$@" and prints the seconds; the command's output goes to stderr.
timed() { local a b; a=$(now); "$@" >&2; b=$(now); elapsed "$a" "$b"; }

# ---------------------------------------------------------------- iperf3: the path's limit
IPERF_GBPS=""
iperf_gbps() { # iperf_gbps PORT -> receiver Gbit/s of a 5 s single-stream run
  iperf3 -c 127.0.0.1 -p "$1" -t 5 -J >"$T/iperf-$1.json" || true
  jq -r '.end.sum_received.bits_per_second // empty | . / 1e9' "$T/iperf-$1.json" ||
    { echo "iperf3 failed: $(jq -r '.error // "no result"' "$T/iperf-$1.json" 2>/dev/null)" >&2; }
}
if wanted iperf3 && command -v iperf3 >/dev/null; then
  log "iperf3 single stream, 5 s"
  P=$(free_port)
  iperf3 -s -B 127.0.0.1 -p "$P" >/dev/null 2>&1 & PIDS+=($!)
  await_port "$P" iperf3
  IPERF_GBPS=$(iperf_gbps "$P")
  record iperf3 "" "" "single TCP stream, memory to memory: $(printf '%.1f' "$IPERF_GBPS") Gbit/s"
fi

# ---------------------------------------------------------------- cp: the disk's limit
if wanted cp; then
  log "cp (local copy, no network)"
  fresh_dst; f=$(timed cp "$T/src/random.bin" "$T/dst/random.bin"); verify_file "$T/dst/random.bin" cp
  fresh_dst; t=$(timed cp -r "$T/src/tree" "$T/dst/tree"); verify_tree "$T/dst/tree" cp
  record cp "$f" "$t" "no network: what the disk and page cache allow"
fi

# ---------------------------------------------------------------- private sshd
SSH_OK=0
if command -v ssh >/dev/null && [[ -x /usr/sbin/sshd ]] && \
   { wanted scp || wanted rsync-ssh || wanted unison || wanted ssh-tunnel; }; then
  mkdir -p "$T/ssh"; chmod 700 "$T/ssh"
  ssh-keygen -q -t ed25519 -N '' -f "$T/ssh/host_ed25519"
  ssh-keygen -q -t ed25519 -N '' -f "$T/ssh/client_ed25519"
  cp "$T/ssh/client_ed25519.pub" "$T/ssh/authorized_keys"
  SSH_PORT=$(free_port)
  cat >"$T/ssh/sshd_config" <<EOF
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
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
  [[ $(id -u) != 0 || -d /run/sshd ]] || mkdir -p /run/sshd
  /usr/sbin/sshd -D -e -f "$T/ssh/sshd_config" 2>"$T/ssh/sshd.log" & PIDS+=($!)
  await_port "$SSH_PORT" sshd
  SSH_OPTS=(-F /dev/null -i "$T/ssh/client_ed25519" -o IdentitiesOnly=yes -o BatchMode=yes
            -o StrictHostKeyChecking=no -o UserKnownHostsFile="$T/ssh/known_hosts" -o LogLevel=ERROR)
  SSH_USER=$(id -un)
  ssh "${SSH_OPTS[@]}" -p "$SSH_PORT" "$SSH_USER@127.0.0.1" true || die "cannot log in to the private sshd (see $T/ssh/sshd.log)"
  SSH_OK=1
  CIPHER=$(ssh "${SSH_OPTS[@]}" -v -p "$SSH_PORT" "$SSH_USER@127.0.0.1" true 2>&1 |
    sed -n 's/.*kex: client->server cipher: \([^ ]*\).*/\1/p' | head -1)
  log "private sshd on 127.0.0.1:$SSH_PORT (cipher $CIPHER)"
fi

if wanted scp && [[ $SSH_OK == 1 ]]; then
  log "scp"
  fresh_dst
  f=$(timed scp -q "${SSH_OPTS[@]}" -P "$SSH_PORT" "$T/src/random.bin" "$SSH_USER@127.0.0.1:$T/dst/random.bin")
  verify_file "$T/dst/random.bin" scp
  fresh_dst
  t=$(timed scp -q -r "${SSH_OPTS[@]}" -P "$SSH_PORT" "$T/src/tree" "$SSH_USER@127.0.0.1:$T/dst/tree")
  verify_tree "$T/dst/tree" scp
  record scp "$f" "$t" "OpenSSH $(ssh -V 2>&1 | cut -d, -f1 | cut -d_ -f2), $CIPHER"
fi

if wanted rsync-ssh && [[ $SSH_OK == 1 ]] && command -v rsync >/dev/null; then
  log "rsync over ssh"
  RSH="ssh ${SSH_OPTS[*]} -p $SSH_PORT"
  fresh_dst
  f=$(timed rsync -a -e "$RSH" "$T/src/random.bin" "$SSH_USER@127.0.0.1:$T/dst/random.bin")
  verify_file "$T/dst/random.bin" rsync-ssh
  fresh_dst
  t=$(timed rsync -a -e "$RSH" "$T/src/tree/" "$SSH_USER@127.0.0.1:$T/dst/tree/")
  verify_tree "$T/dst/tree" rsync-ssh
  record rsync-ssh "$f" "$t" "rsync $(rsync --version | head -1 | awk '{print $3}') -a, initial copy"
fi

if wanted rsync-daemon && command -v rsync >/dev/null; then
  log "rsync daemon"
  RSYNC_PORT=$(free_port)
  mkdir -p "$T/rsyncd"
  cat >"$T/rsyncd/rsyncd.conf" <<EOF
pid file = $T/rsyncd/rsyncd.pid
use chroot = no
address = 127.0.0.1
[bench]
  path = $T/dst
  read only = no
  uid = $(id -u)
  gid = $(id -g)
EOF
  rsync --daemon --no-detach --config="$T/rsyncd/rsyncd.conf" --port="$RSYNC_PORT" \
    --log-file="$T/rsyncd/rsyncd.log" & PIDS+=($!)
  await_port "$RSYNC_PORT" "rsync daemon"
  fresh_dst
  f=$(timed rsync -a "$T/src/random.bin" "rsync://127.0.0.1:$RSYNC_PORT/bench/random.bin")
  verify_file "$T/dst/random.bin" rsync-daemon
  fresh_dst
  t=$(timed rsync -a "$T/src/tree/" "rsync://127.0.0.1:$RSYNC_PORT/bench/tree/")
  verify_tree "$T/dst/tree" rsync-daemon
  record rsync-daemon "$f" "$t" "plain TCP, no encryption"
fi

if wanted unison && [[ $SSH_OK == 1 ]] && command -v unison >/dev/null; then
  log "unison over ssh"
  # Both sides keep their archives under $T, never in ~/.unison.
  mkdir -p "$T/unison/local" "$T/unison/remote"
  unison_copy() { # unison_copy SRC DST
    UNISON="$T/unison/local" unison "$1" "ssh://$SSH_USER@127.0.0.1/$2" -batch -auto -silent \
      -times -perms 0 -ui text -sshargs "${SSH_OPTS[*]} -p $SSH_PORT" \
      -servercmd "env UNISON=$T/unison/remote $(command -v unison)"
  }
  fresh_dst; mkdir -p "$T/dst/file" "$T/src-file"; ln -f "$T/src/random.bin" "$T/src-file/random.bin"
  f=$(timed unison_copy "$T/src-file" "$T/dst/file"); verify_file "$T/dst/file/random.bin" unison
  fresh_dst; mkdir -p "$T/dst/tree"
  t=$(timed unison_copy "$T/src/tree" "$T/dst/tree"); verify_tree "$T/dst/tree" unison
  rm -rf "$T/src-file"
  record unison "$f" "$t" "$(unison -version 2>/dev/null | head -1), first sync"
fi

# Syncthing: two instances on loopback, send-only -> receive-only, discovery and relays off.
# Timed from sharing the folder (devices already connected) until the receiver needs nothing.
syncthing_start() { # syncthing_start NAME -> sets ST_<NAME>_{GUI,KEY,ID,PORT}
  local name=$1 home="$T/st-$1" gui listen key
  gui=$(free_port); listen=$(free_port); key="bench-$RANDOM$RANDOM"
  syncthing generate --home="$home" --no-default-folder --skip-port-probing >/dev/null
  sed -i -e "s#<listenAddress>default</listenAddress>#<listenAddress>tcp://127.0.0.1:$listen</listenAddress>#" \
    -e 's#<globalAnnounceEnabled>true#<globalAnnounceEnabled>false#' \
    -e 's#<localAnnounceEnabled>true#<localAnnounceEnabled>false#' \
    -e 's#<relaysEnabled>true#<relaysEnabled>false#' \
    -e 's#<natEnabled>true#<natEnabled>false#' \
    -e 's#<startBrowser>true#<startBrowser>false#' \
    -e 's#<crashReportingEnabled>true#<crashReportingEnabled>false#' \
    -e 's#<urAccepted>0#<urAccepted>-1#' \
    -e 's#<autoUpgradeIntervalH>[0-9]*#<autoUpgradeIntervalH>0#' "$home/config.xml"
  STNORESTART=1 STNOUPGRADE=1 syncthing serve --home="$home" --no-browser --no-restart \
    --gui-address="127.0.0.1:$gui" --gui-apikey="$key" --logfile="$home/syncthing.log" >/dev/null 2>&1 &
  PIDS+=($!)
  await_port "$gui" "syncthing $name"
  printf -v "ST_${name}_GUI" '%s' "$gui"; printf -v "ST_${name}_KEY" '%s' "$key"
  printf -v "ST_${name}_PORT" '%s' "$listen"
  printf -v "ST_${name}_ID" '%s' "$(syncthing serve --home="$home" --device-id)"
}
st_api() { # st_api NAME METHOD PATH [JSON]
  local gui key; gui="ST_$1_GUI"; key="ST_$1_KEY"
  curl -fsS -X "$2" -H "X-API-Key: ${!key}" -H 'Content-Type: application/json' \
    ${4:+--data "$4"} "http://127.0.0.1:${!gui}$3"
}
st_await() { # st_await DESCRIPTION TIMEOUT_S COMMAND...
  local deadline=$(( $(date +%s) + $2 )); local what=$1; shift 2
  until "$@"; do
    (( $(date +%s) < deadline )) || die "syncthing: timed out waiting for $what"
    sleep 0.1
  done
}
st_connected() { st_api a GET /rest/system/connections | jq -e --arg id "$ST_b_ID" '.connections[$id].connected' >/dev/null; }
st_done() { # st_done FOLDER FILES
  st_api b GET "/rest/db/status?folder=$1" |
    jq -e --argjson n "$2" '.needFiles == 0 and .localFiles == $n and .state == "idle"' >/dev/null
}
st_share() { # st_share FOLDER SRC_DIR DST_DIR
  st_api a POST /rest/config/folders "{\"id\":\"$1\",\"path\":\"$2\",\"type\":\"sendonly\",\"rescanIntervalS\":3600,\"fsWatcherEnabled\":false,\"devices\":[{\"deviceID\":\"$ST_b_ID\"}]}" >/dev/null
  st_api b POST /rest/config/folders "{\"id\":\"$1\",\"path\":\"$3\",\"type\":\"receiveonly\",\"rescanIntervalS\":3600,\"fsWatcherEnabled\":false,\"devices\":[{\"deviceID\":\"$ST_a_ID\"}]}" >/dev/null
}
if wanted syncthing && command -v syncthing >/dev/null && command -v curl >/dev/null; then
  log "syncthing (two local instances)"
  syncthing_start a; syncthing_start b
  st_api a POST /rest/config/devices "{\"deviceID\":\"$ST_b_ID\",\"name\":\"b\",\"addresses\":[\"tcp://127.0.0.1:$ST_b_PORT\"]}" >/dev/null
  st_api b POST /rest/config/devices "{\"deviceID\":\"$ST_a_ID\",\"name\":\"a\",\"addresses\":[\"tcp://127.0.0.1:$ST_a_PORT\"]}" >/dev/null
  st_await "the two instances to connect" 60 st_connected
  fresh_dst; mkdir -p "$T/st-src-file"; ln -f "$T/src/random.bin" "$T/st-src-file/random.bin"
  a=$(now); st_share file "$T/st-src-file" "$T/dst/file"; st_await "the file to arrive" 600 st_done file 1; b=$(now)
  f=$(elapsed "$a" "$b"); verify_file "$T/dst/file/random.bin" syncthing
  a=$(now); st_share tree "$T/src/tree" "$T/dst/tree"; st_await "the tree to arrive" 1200 st_done tree "$TREE_FILES"; b=$(now)
  t=$(elapsed "$a" "$b"); diff -rq -x .stfolder "$T/src/tree" "$T/dst/tree" >/dev/null || die "syncthing: tree differs"
  rm -rf "$T/st-src-file"
  record syncthing "$f" "$t" "$(syncthing --version | awk '{print $2}'), scan + hash + transfer, TLS"
fi

# ssh -L: the tunnel people put in front of an inference server. Throughput by iperf3 through
# the tunnel, round trip by a 64-byte echo through it (the shape of one streamed token).
RTT_DIRECT=""; RTT_TUNNEL=""; TUNNEL_GBPS=""
if wanted ssh-tunnel && [[ $SSH_OK == 1 ]]; then
  log "ssh -L tunnel"
  ECHO_PORT=$(free_port); TUN_ECHO=$(free_port)
  java -cp "$JAR" dev.thunderlink.benchmarks.RttProbe serve "$ECHO_PORT" >/dev/null & PIDS+=($!)
  await_port "$ECHO_PORT" "echo server"
  ssh "${SSH_OPTS[@]}" -p "$SSH_PORT" -N -L "127.0.0.1:$TUN_ECHO:127.0.0.1:$ECHO_PORT" "$SSH_USER@127.0.0.1" & PIDS+=($!)
  await_port "$TUN_ECHO" "ssh -L echo tunnel"
  RTT_DIRECT=$(java -cp "$JAR" dev.thunderlink.benchmarks.RttProbe probe "127.0.0.1:$ECHO_PORT")
  RTT_TUNNEL=$(java -cp "$JAR" dev.thunderlink.benchmarks.RttProbe probe "127.0.0.1:$TUN_ECHO")
  if command -v iperf3 >/dev/null && [[ -n "${P:-}" ]]; then
    TUN_IPERF=$(free_port)
    ssh "${SSH_OPTS[@]}" -p "$SSH_PORT" -N -L "127.0.0.1:$TUN_IPERF:127.0.0.1:$P" "$SSH_USER@127.0.0.1" & PIDS+=($!)
    await_port "$TUN_IPERF" "ssh -L iperf3 tunnel"
    TUNNEL_GBPS=$(iperf_gbps "$TUN_IPERF")
  fi
fi

# ================================================================ THUNDERLINK HOOK
# thunderlink the way a user runs it, on loopback: a host daemon (`serve`, homes under $T, bulk
# writes allowed only under $T/dst, no inference, no metrics port) and a workstation home paired
# with it by the real one-time code. `thunderlink cp` pushes the file and the tree to
# host:$T/dst; then, for the mirror row, a workstation daemon (`connect`) runs one sync session
# of the tree and `sync flush` returns when it has all reached the host. Every figure is the
# wall clock of the commands, JVM start and link handshake included, like ssh's for scp; the
# note gives `cp`'s own transfer time. The daemons are in PIDS: the EXIT trap stops them.
TL_JAR="$HERE/../daemon/target/thunderlink.jar"
TL_PORT=""
TL_HOST="$T/tl-host"
TL_WS="$T/tl-ws"
TL_PIDS=() # this variant's daemons (also in PIDS, for the EXIT trap)
tl() { java ${THUNDERLINK_JAVA_OPTS:-} -jar "$TL_JAR" "$@"; }
tl_fail() { # tl_fail MESSAGE: the daemons' last log lines, then die
  local f
  for f in "$TL_HOST.log" "$TL_WS.log"; do
    [[ -f "$f" ]] && { echo "--- tail of $f" >&2; tail -n 20 "$f" >&2; }
  done
  die "thunderlink: $1"
}
tl_await() { # tl_await DESCRIPTION TIMEOUT_S COMMAND...
  local deadline=$(( $(date +%s) + $2 )); local what=$1; shift 2
  until "$@"; do
    (( $(date +%s) < deadline )) || tl_fail "timed out waiting for $what"
    sleep 0.1
  done
}
tl_connected() { # jq -e passes on empty input (jq 1.6), so no output must not count as connected
  local s; s=$(tl status --home "$TL_WS" --json 2>/dev/null) && [[ -n "$s" ]] && jq -e '.peer.connected == true' >/dev/null <<<"$s"; }
tl_pair() { # starts the host daemon and pairs $TL_WS with it
  if [[ ! -f "$TL_JAR" ]]; then
    command -v mvn >/dev/null || die "missing $TL_JAR and no mvn to build it"
    log "building $TL_JAR"
    (cd "$HERE/.." && mvn -B -ntp -q -DskipTests -pl daemon -am package) >&2 || die "building the daemon jar failed"
  fi
  command -v jq >/dev/null || die "jq not found (needed to read thunderlink's JSON)"
  TL_PORT=$(free_port)
  fresh_dst
  THUNDERLINK_METRICS_PORT=0 THUNDERLINK_BULK_PERMITTED_ROOTS="$T/dst" \
    java ${THUNDERLINK_JAVA_OPTS:-} -jar "$TL_JAR" serve --home "$TL_HOST" --listen "127.0.0.1:$TL_PORT" \
    --no-inference >"$TL_HOST.log" 2>&1 & PIDS+=($!); TL_PIDS+=($!)
  await_port "$TL_PORT" "thunderlink serve"
  # The control endpoint (which `pair` talks to) comes up just after the link port.
  tl_await "the host's control endpoint" 10 test -f "$TL_HOST/control.json"
  local code
  # asked up to three times: on a loaded machine the control call's deadline can pass while
  # the just-started host daemon is still warming up
  local try
  for try in 1 2 3; do
    code=$(tl pair --home "$TL_HOST" --json | jq -r '.code // empty') || true
    [[ -n "$code" ]] && break
  done
  [[ -n "$code" ]] || tl_fail "the host printed no pairing code"
  tl pair --home "$TL_WS" "127.0.0.1:$TL_PORT" "$code" >&2 || tl_fail "pairing the workstation failed"
}
tl_verify_tree() { # tl_verify_tree DIR WHAT: like verify_tree, but shows what differs
  diff -rq "$T/src/tree" "$1" >"$T/tl-diff.txt" 2>&1 && return 0
  echo "--- $(wc -l <"$T/tl-diff.txt") differences, first 10:" >&2; head -n 10 "$T/tl-diff.txt" >&2
  tl_fail "$2: copied tree differs from the source"
}
tl_cp() { # tl_cp JSON_OUT SRC DST: one push, its JSON summary kept; prints the wall-clock seconds
  local a b
  a=$(now)
  tl cp --home "$TL_WS" --no-progress --json "$2" "host:$3" >"$1" || tl_fail "cp $2 failed"
  b=$(now)
  elapsed "$a" "$b"
}
run_thunderlink() {
  log "thunderlink cp (host daemon and paired workstation on loopback)"
  tl_pair
  local f t modes
  fresh_dst
  f=$(tl_cp "$T/tl-cp-file.json" "$T/src/random.bin" "$T/dst/random.bin")
  verify_file "$T/dst/random.bin" thunderlink
  fresh_dst
  t=$(tl_cp "$T/tl-cp-tree.json" "$T/src/tree" "$T/dst/tree")
  tl_verify_tree "$T/dst/tree" cp
  modes=$(jq -r '[.entries[].mode] | group_by(.) | map("\(.[0]) x\(length)") | join(", ")' "$T/tl-cp-file.json" "$T/tl-cp-tree.json" | paste -sd ';' - | sed 's/;/; tree /')
  record thunderlink "$f" "$t" "$(jq -r '.encrypted | if . then "TLS" else "plaintext" end' "$T/tl-cp-file.json") on loopback, file $modes; cp's own transfer time $(jq -r '.seconds * 100 | round / 100' "$T/tl-cp-file.json") s / $(jq -r '.seconds * 100 | round / 100' "$T/tl-cp-tree.json") s, the rest is JVM start + handshake"
}
run_thunderlink_sync() {
  log "thunderlink sync (workstation daemon, one two-way session, initial sync of the tree)"
  [[ -n "$TL_PORT" ]] || tl_pair
  THUNDERLINK_METRICS_PORT=0 java ${THUNDERLINK_JAVA_OPTS:-} -jar "$TL_JAR" connect --home "$TL_WS" \
    --no-inference --no-discover "127.0.0.1:$TL_PORT" >"$TL_WS.log" 2>&1 & PIDS+=($!); TL_PIDS+=($!)
  tl_await "the workstation daemon to connect" 60 tl_connected
  fresh_dst; mkdir -p "$T/dst/mirror"
  local a b t cpu0 cpu1
  cpu0=$(tl_cpu)
  a=$(now)
  tl sync create --home "$TL_WS" --local "$T/src/tree" --remote "$T/dst/mirror/tree" bench-tree >&2 ||
    tl_fail "sync create failed"
  tl sync flush --home "$TL_WS" --timeout 1800 bench-tree >&2 || tl_fail "sync flush failed (or timed out)"
  b=$(now)
  cpu1=$(tl_cpu)
  t=$(elapsed "$a" "$b")
  tl_verify_tree "$T/dst/mirror/tree" sync
  record "thunderlink-sync${1:-}" "" "$t" "two-way-safe session, sync create until sync flush returns (two JVM starts included); daemons' CPU $(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.1f", b - a }') s, load $(cut -d' ' -f1 /proc/loadavg)${2:-}"
}
tl_cpu() { # CPU seconds (user + system) used so far by this variant's daemons: on a shared machine
  # it moves far less with the load than the wall clock does
  local pid ticks=0 hz
  hz=$(getconf CLK_TCK)
  for pid in "${TL_PIDS[@]}"; do
    [[ -r /proc/$pid/stat ]] || continue
    ticks=$(( ticks + $(sed 's/^.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }') ))
  done
  awk -v t="$ticks" -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }'
}
tl_stop() { # stops this variant's daemons, so an idle one's watcher does not disturb the next run
  local pid
  for pid in "${TL_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${TL_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  TL_PIDS=(); TL_PORT=""
}
if wanted thunderlink; then run_thunderlink; fi
if wanted thunderlink-sync; then
  if [[ -n "$BASELINE_JAR" ]]; then
    # the same run with another build first (fresh homes and daemons), then this tree's jar
    tl_stop
    NEW_JAR=$TL_JAR
    TL_JAR=$BASELINE_JAR; TL_HOST="$T/tl-host-baseline"; TL_WS="$T/tl-ws-baseline"
    run_thunderlink_sync -baseline ", baseline jar $(basename "$BASELINE_JAR")"
    tl_stop
    TL_JAR=$NEW_JAR; TL_HOST="$T/tl-host-new"; TL_WS="$T/tl-ws-new"
  fi
  run_thunderlink_sync
fi
# ================================================================ END THUNDERLINK HOOK

# ---------------------------------------------------------------- report
mbps() { [[ -n "$2" ]] && awk -v b="$1" -v s="$2" 'BEGIN { printf "%.0f", b / s / 1e6 }' || echo "-"; }
ratio() { # throughput as a share of iperf3's
  [[ -n "$2" && -n "$IPERF_GBPS" ]] && awk -v b="$1" -v s="$2" -v g="$IPERF_GBPS" 'BEGIN { printf "%.2f", (b * 8 / s / 1e9) / g }' || echo "-"
}
ratio_cp() { # tree throughput as a share of the local cp's
  [[ -n "$1" && -n "${TREE_S[cp]:-}" ]] && awk -v s="$1" -v c="${TREE_S[cp]}" 'BEGIN { printf "%.2f", c / s }' || echo "-"
}
fps() { [[ -n "$1" ]] && awk -v n="$TREE_FILES" -v s="$1" 'BEGIN { printf "%.0f", n / s }' || echo "-"; }
{
  echo "## Peer comparison on loopback ($(hostname), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ))"
  echo
  echo "Workload: one random file of $FILE_BYTES bytes; a tree of $TREE_FILES text files ($MIN-$MAX, $TREE_BYTES bytes), seed $SEED."
  echo "Destination on the same disk; times are wall clock of one run, page cache warm for the source."
  if [[ -n "$IPERF_GBPS" ]]; then
    echo "File ratio = throughput / iperf3 single stream ($(printf '%.1f' "$IPERF_GBPS") Gbit/s = $(awk -v g="$IPERF_GBPS" 'BEGIN{printf "%.0f", g*1e9/8/1e6}') MB/s), the path's limit."
  fi
  echo "Tree ratio = throughput / a local \`cp -r\` of the same tree, the disk's limit for many small files."
  echo
  echo "| tool | random file s | MB/s | ratio | tree s | files/s | MB/s | tree ratio | notes |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
  for tool in "${ORDER[@]}"; do
    f=${FILE_S[$tool]}; t=${TREE_S[$tool]}
    if [[ $tool == iperf3 ]]; then
      mb=$(awk -v g="$IPERF_GBPS" 'BEGIN{printf "%.0f", g*1e9/8/1e6}')
      echo "| iperf3 | - | $mb | 1.00 | - | - | - | - | ${NOTE[$tool]} |"
      continue
    fi
    echo "| $tool | ${f:--} | $(mbps "$FILE_BYTES" "$f") | $(ratio "$FILE_BYTES" "$f") | ${t:--} | $(fps "$t") | $(mbps "$TREE_BYTES" "$t") | $(ratio_cp "$t") | ${NOTE[$tool]} |"
  done
  if [[ -n "$RTT_TUNNEL" ]]; then
    echo
    echo "| round trip, 64 B echo | result | throughput |"
    echo "|---|---|---|"
    echo "| direct TCP | $RTT_DIRECT | ${IPERF_GBPS:+$(printf '%.1f' "$IPERF_GBPS") Gbit/s (iperf3)} |"
    echo "| ssh -L tunnel | $RTT_TUNNEL | ${TUNNEL_GBPS:+$(printf '%.1f' "$TUNNEL_GBPS") Gbit/s (iperf3 through the tunnel)} |"
  fi
} | tee "$OUT/peer-compare.md"
log "table written to $OUT/peer-compare.md"
