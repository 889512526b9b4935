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
#                                   [--no-file] [--no-tree] [--runs N] [--baseline-jar OLD.jar]
#                                   [--sync-warm] [--warm-syncs K] [--warm-copies K]
#   --install   apt-get install the missing Debian packages first (nothing is installed without it)
#   --only      comma-separated subset: iperf3,cp,scp,rsync-ssh,rsync-daemon,unison,syncthing,
#               ssh-tunnel,thunderlink,thunderlink-sync,thunderlink-sync-pull,thunderlink-sync-pull-file
#   --no-file   skip the random file; --no-tree skip the tree (and its generation)
#   --runs N    time each copy N times (iperf3 too) and report the median, every run in the notes
#               (cp, scp, rsync, thunderlink, thunderlink-sync; unison and syncthing run once: they keep state)
#   --baseline-jar  the same as THUNDERLINK_BASE_JAR=OLD.jar (below): the thunderlink and
#               thunderlink-sync rows also run another build (e.g. main's), same run, same load
#   --sync-warm the mirror rows keep each variant's workstation daemon across their runs, as a
#               user's runs for days, instead of starting it afresh for each: the row is then the
#               median of runs 2..N (warm daemons) and its note gives run 1 (cold JVMs) apart;
#               needs --runs 2 or more
#   --warm-syncs K  with --sync-warm: K untimed first syncs per variant after the cold run 1, so
#               that runs 2..N show daemons past the JIT's warm-up (it takes ~10 syncs of 20,000
#               files on 2 cores; without them runs 2..N still fall from run to run)
#   --warm-copies K  the cp rows start after K untimed copies of the tree per daemon variant, so
#               that they show daemons that have been copying for a while (JIT warm: a fresh
#               pair's first copies of 20,000 files run several times slower) rather than the
#               first copies after a start; the note says so (default 0)
#   thunderlink-sync-pull: the mirror's initial sync the other way: the tree on the host side,
#               the workstation's folder empty (host to workstation); -pull-file: the same with
#               a folder holding only the random file
#
# Environment: THUNDERLINK_JAR, the daemon jar to measure (default daemon/target/thunderlink.jar);
# TMPDIR, where the workspace goes (source, destinations, daemons' homes; default /tmp): e.g.
# TMPDIR=/dev/shm puts it all on tmpfs, so that no run pays for the disk's write-back of the
# run before (on ext4 the rsync daemon's three tree runs took 1.04, 5.82 and 11.91 s);
# THUNDERLINK_BASE_JAR, a baseline jar (e.g. built from main in a `git worktree`) measured in the
# same run as row thunderlink-base, with its own host daemon, runs alternating with the other
# jar's so both see the same machine load. Both run through the ./thunderlink launcher with the
# jar set (THUNDERLINK_JAR); the baseline (unless BASELINE_LAUNCHER_OPTS=1, for a baseline
# jar made since the launcher chose options: its commands then get them too, class archive
# included) with THUNDERLINK_CLI_JVM_OPTS="", i.e. plain
# `java -jar` as before the launcher chose JVM options. Both variants' daemons take their JVM
# options from this checkout's launcher; to compare launcher options, run once per variant with
# THUNDERLINK_DAEMON_JVM_OPTS set to each list.
# TMPDIR: where the workspace (workload and every destination) goes, default /tmp. On a disk,
# the page cache's write-back of one copy (~170 MB for the tree) lands on whatever runs next;
# TMPDIR=/dev/shm (tmpfs) takes the disk out of the figures, leaving CPU and protocol costs.
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
SEED=20261126
DO_FILE=1
DO_TREE=1
RUNS=1
BASELINE_JAR=""
SYNC_WARM=0
WARM_SYNCS=0
WARM_COPIES=0
BASELINE_LAUNCHER_OPTS="${BASELINE_LAUNCHER_OPTS:-0}"

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
    --no-file) DO_FILE=0; shift ;;
    --no-tree) DO_TREE=0; shift ;;
    --runs) RUNS="${2:?--runs needs a value}"; shift 2
      [[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "--runs: $RUNS (expected: a whole number >= 1)" ;;
    --baseline-jar) BASELINE_JAR="${2:?--baseline-jar needs a value}"; shift 2
      [[ -f "$BASELINE_JAR" ]] || die "--baseline-jar: no such file: $BASELINE_JAR" ;;
    --sync-warm) SYNC_WARM=1; shift ;;
    --warm-syncs) WARM_SYNCS="${2:?--warm-syncs needs a value}"; shift 2 ;;
    --warm-copies) WARM_COPIES="${2:?--warm-copies needs a value}"; shift 2
      [[ "$WARM_COPIES" =~ ^[0-9]+$ ]] || die "--warm-copies: $WARM_COPIES (expected: a whole number >= 0)" ;;
    -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown option: $1 (expected: --install, --size, --files, --min, --max, --only, --out, --keep, --no-file, --no-tree, --runs, --baseline-jar, --sync-warm, --warm-syncs, --warm-copies)" ;;
  esac
done
[[ $SYNC_WARM == 0 || $RUNS -ge 2 ]] || die "--sync-warm needs --runs 2 or more (run 1 is the cold one)"
[[ "$WARM_SYNCS" =~ ^[0-9]+$ ]] || die "--warm-syncs: $WARM_SYNCS (expected: a whole number)"
[[ $WARM_SYNCS == 0 || $SYNC_WARM == 1 ]] || die "--warm-syncs needs --sync-warm (the daemons are kept across runs)"

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
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

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)

# ---------------------------------------------------------------- workload
log "generating workload in $T (random file $SIZE: $DO_FILE, tree of $FILES files $MIN-$MAX: $DO_TREE, seed $SEED)"
mkdir -p "$T/src"
FILE_BYTES=0; TREE_BYTES=0; TREE_FILES=0
if [[ $DO_FILE == 1 ]]; then
  java -cp "$JAR" dev.thunderlink.benchmarks.workload.TreeGenerator random "$T/src/random.bin" --size "$SIZE" --seed "$SEED" >&2
  FILE_BYTES=$(stat -c %s "$T/src/random.bin")
fi
if [[ $DO_TREE == 1 ]]; then
  java -cp "$JAR" dev.thunderlink.benchmarks.workload.TreeGenerator tree "$T/src/tree" \
    --files "$FILES" --min "$MIN" --max "$MAX" --seed "$SEED" >&2
  TREE_BYTES=$(find "$T/src/tree" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
  TREE_FILES=$(find "$T/src/tree" -type f | wc -l)
fi
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

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { printf "%.2f", NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# Runs "$@" RUNS times, each into a fresh destination; prints the median seconds and keeps
# every run's in $T/runs.<KEY> for the notes.
measure() { # measure KEY CMD...
  local key=$1 i all=(); shift
  for (( i = 0; i < RUNS; i++ )); do fresh_dst; all+=("$(timed "$@")"); done
  echo "${all[*]}" >"$T/runs.$key"
  median "${all[@]}"
}
runs_note() { # runs_note KEY...: "runs file 1.1 1.2 1.3 / tree ..." when there is more than one run
  [[ $RUNS -gt 1 ]] || return 0
  local k out=""
  for k in "$@"; do [[ -f "$T/runs.$k" ]] && out+="${out:+; }${k##*.} runs $(cat "$T/runs.$k") s"; done
  echo "${out:+, median of $RUNS ($out)}"
}

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
  g=(); for (( i = 0; i < RUNS; i++ )); do g+=("$(iperf_gbps "$P")"); done
  IPERF_GBPS=$(median "${g[@]}")
  record iperf3 "" "" "single TCP stream, memory to memory: $(printf '%.1f' "$IPERF_GBPS") Gbit/s$([[ $RUNS -gt 1 ]] && echo ", median of $RUNS (${g[*]})")"
fi

# ---------------------------------------------------------------- cp: the disk's limit
if wanted cp; then
  log "cp (local copy, no network)"
  f=""; t=""
  if [[ $DO_FILE == 1 ]]; then f=$(measure cp.file cp "$T/src/random.bin" "$T/dst/random.bin"); verify_file "$T/dst/random.bin" cp; fi
  if [[ $DO_TREE == 1 ]]; then t=$(measure cp.tree cp -r "$T/src/tree" "$T/dst/tree"); verify_tree "$T/dst/tree" cp; fi
  record cp "$f" "$t" "no network: what the disk and page cache allow$(runs_note cp.file cp.tree)"
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
  f=""; t=""
  if [[ $DO_FILE == 1 ]]; then
    f=$(measure scp.file scp -q "${SSH_OPTS[@]}" -P "$SSH_PORT" "$T/src/random.bin" "$SSH_USER@127.0.0.1:$T/dst/random.bin")
    verify_file "$T/dst/random.bin" scp
  fi
  if [[ $DO_TREE == 1 ]]; then
    t=$(measure scp.tree scp -q -r "${SSH_OPTS[@]}" -P "$SSH_PORT" "$T/src/tree" "$SSH_USER@127.0.0.1:$T/dst/tree")
    verify_tree "$T/dst/tree" scp
  fi
  record scp "$f" "$t" "OpenSSH $(ssh -V 2>&1 | cut -d, -f1 | cut -d_ -f2), $CIPHER$(runs_note scp.file scp.tree)"
fi

if wanted rsync-ssh && [[ $SSH_OK == 1 ]] && command -v rsync >/dev/null; then
  log "rsync over ssh"
  RSH="ssh ${SSH_OPTS[*]} -p $SSH_PORT"
  f=""; t=""
  if [[ $DO_FILE == 1 ]]; then
    f=$(measure rsync-ssh.file rsync -a -e "$RSH" "$T/src/random.bin" "$SSH_USER@127.0.0.1:$T/dst/random.bin")
    verify_file "$T/dst/random.bin" rsync-ssh
  fi
  if [[ $DO_TREE == 1 ]]; then
    t=$(measure rsync-ssh.tree rsync -a -e "$RSH" "$T/src/tree/" "$SSH_USER@127.0.0.1:$T/dst/tree/")
    verify_tree "$T/dst/tree" rsync-ssh
  fi
  record rsync-ssh "$f" "$t" "rsync $(rsync --version | head -1 | awk '{print $3}') -a, initial copy$(runs_note rsync-ssh.file rsync-ssh.tree)"
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
    --log-file="$T/rsyncd/rsyncd.log" & PIDS+=($!); RSYNCD_PID=$!
  await_port "$RSYNC_PORT" "rsync daemon"
  # CPU, to set beside the mirror's daemons' CPU: the client's (bash's time, per run) and the
  # daemon's receivers' (each connection's forked child, reaped by the daemon: its cutime+cstime)
  rsync_client() { local TIMEFORMAT='%U %S'; { time rsync "$@" 2>&3; } 3>&2 2>>"$T/rsync-client.cpu"; }
  reaped_cpu() { sed 's/^.*) //' "/proc/$1/stat" | awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }'; }
  f=""; t=""
  if [[ $DO_FILE == 1 ]]; then
    f=$(measure rsync-daemon.file rsync -a "$T/src/random.bin" "rsync://127.0.0.1:$RSYNC_PORT/bench/random.bin")
    verify_file "$T/dst/random.bin" rsync-daemon
  fi
  if [[ $DO_TREE == 1 ]]; then
    rm -f "$T/rsync-client.cpu"; rsyncd_cpu0=$(reaped_cpu "$RSYNCD_PID")
    t=$(measure rsync-daemon.tree rsync_client -a "$T/src/tree/" "rsync://127.0.0.1:$RSYNC_PORT/bench/tree/")
    verify_tree "$T/dst/tree" rsync-daemon
    # per run: the receivers' CPU over all runs / RUNS (the last child is reaped by now: its
    # client has exited, and the daemon reaps at once), the client's median
    sleep 0.2
    rsync_cpu_note=$(awk '{ printf "%.3f\n", $1 + $2 }' "$T/rsync-client.cpu" | sort -g |
      awk -v d0="$rsyncd_cpu0" -v d1="$(reaped_cpu "$RSYNCD_PID")" -v n="$RUNS" '{ c[NR] = $1 } END {
        m = NR % 2 ? c[(NR + 1) / 2] : (c[NR / 2] + c[NR / 2 + 1]) / 2
        printf ", tree CPU %.2f s per run (client %.2f s, daemon %.2f s)", m + (d1 - d0) / n, m, (d1 - d0) / n }')
  fi
  record rsync-daemon "$f" "$t" "plain TCP, no encryption$(runs_note rsync-daemon.file rsync-daemon.tree)${rsync_cpu_note:-}"
fi

if wanted unison && [[ $DO_FILE == 1 && $DO_TREE == 1 ]] && [[ $SSH_OK == 1 ]] && command -v unison >/dev/null; then
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
if wanted syncthing && [[ $DO_FILE == 1 && $DO_TREE == 1 ]] && command -v syncthing >/dev/null && command -v curl >/dev/null; then
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
# with it by the real one-time code, whose workstation daemon (`connect`) runs as it does for a
# user. `thunderlink cp` pushes the file and the tree to host:$T/dst: through that daemon (row
# thunderlink; jars from before session 8 ignore it), and with `cp --standalone` over a link of
# the command's own (row thunderlink-standalone). Then, for the mirror row, a fresh workstation
# daemon runs one sync session of the tree and `sync create --wait` (or, for a jar without it,
# `sync create` then `sync flush`) returns when it has all reached the host (with --runs N, N times on fresh workstation daemons, alternating with the baseline).
# Every figure is the
# wall clock of the commands, JVM start and link handshake included, like ssh's for scp; the
# note gives `cp`'s own transfer time and the wall clock of copying a 1-byte file (start-up,
# handshake and session: the fixed cost). One untimed 1-byte cp first (page cache, and the
# launcher's class archive for `cp`, written by a command's first run).
# With THUNDERLINK_BASE_JAR a second host and workstation run that jar (row thunderlink-base),
# each timed run alternating with the other's. The daemons are in PIDS: the EXIT trap stops them.
TL_JAR="${THUNDERLINK_JAR:-$HERE/../daemon/target/thunderlink.jar}"
TL_BASE_JAR="${BASELINE_JAR:-${THUNDERLINK_BASE_JAR:-}}"
unset THUNDERLINK_BASE_JAR # the daemons would warn about a THUNDERLINK_ variable they do not know
TL_LAUNCHER="$HERE/../thunderlink"
declare -A TL_PORT=() TL_PIDS=() TL_WS_PID=() TL_HOST_PID=() # per variant: link port; its daemons' pids (also in PIDS); its workstation daemon's; its host daemon's
TL_VARIANTS=(new)
[[ -n "$TL_BASE_JAR" ]] && TL_VARIANTS=(base new)
tl_as() { # tl_as VARIANT ARGS...: the launcher on that variant's jar
  local v=$1; shift
  if [[ $v == base && $BASELINE_LAUNCHER_OPTS == 1 ]]; then
    THUNDERLINK_JAR="$TL_BASE_JAR" "$TL_LAUNCHER" "$@"
  elif [[ $v == base ]]; then
    THUNDERLINK_JAR="$TL_BASE_JAR" THUNDERLINK_CLI_JVM_OPTS="" "$TL_LAUNCHER" "$@"
  else
    THUNDERLINK_JAR="$TL_JAR" "$TL_LAUNCHER" "$@"
  fi
}
tl() { tl_as new "$@"; }
tl_fail() { # tl_fail MESSAGE: the daemons' last log lines, then die
  local f
  for f in "$T"/tl-host-*.log "$T"/tl-ws-*.log; do
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
tl_connected() { # tl_connected VARIANT; jq -e passes on empty input (jq 1.6), so no output must not count
  local s; s=$(tl_as "$1" status --home "$T/tl-ws-$1" --json 2>/dev/null) && [[ -n "$s" ]] && jq -e '.peer.connected == true' >/dev/null <<<"$s"; }
tl_pair() { # tl_pair VARIANT: starts that variant's host daemon and pairs $T/tl-ws-VARIANT with it
  local v=$1 jar=$TL_JAR code port
  [[ $v == base ]] && jar=$TL_BASE_JAR
  if [[ ! -f "$jar" ]]; then
    [[ $v == new && -z "${THUNDERLINK_JAR:-}" ]] || die "missing $jar"
    command -v mvn >/dev/null || die "missing $jar and no mvn to build it"
    log "building $jar"
    (cd "$HERE/.." && mvn -B -ntp -q -DskipTests -pl daemon -am package) >&2 || die "building the daemon jar failed"
  fi
  command -v jq >/dev/null || die "jq not found (needed to read thunderlink's JSON)"
  port=$(free_port)
  TL_PORT[$v]=$port
  mkdir -p "$T/dst"
  # through env, not tl_as: the launcher then execs java under $!, so the EXIT trap stops the daemon
  local vars=(THUNDERLINK_JAR="$jar")
  [[ $v == base && $BASELINE_LAUNCHER_OPTS == 0 ]] && vars+=(THUNDERLINK_CLI_JVM_OPTS=)
  env "${vars[@]}" THUNDERLINK_METRICS_PORT=0 THUNDERLINK_BULK_PERMITTED_ROOTS="$T/dst" \
    "$TL_LAUNCHER" serve --home "$T/tl-host-$v" --listen "127.0.0.1:$port" --no-inference >"$T/tl-host-$v.log" 2>&1 & PIDS+=($!); TL_PIDS[$v]+="$! "; TL_HOST_PID[$v]=$!
  await_port "$port" "thunderlink serve ($v)"
  # The control endpoint (which `pair` talks to) comes up just after the link port.
  tl_await "the host's control endpoint" 10 test -f "$T/tl-host-$v/control.json"
  # asked up to three times: on a loaded machine the control call's deadline can pass while the
  # just-started host daemon is still warming up
  local try
  for try in 1 2 3; do
    code=$(tl_as "$v" pair --home "$T/tl-host-$v" --json | jq -r '.code // empty') || true
    [[ -n "$code" ]] && break
  done
  [[ -n "$code" ]] || tl_fail "the host printed no pairing code"
  tl_as "$v" pair --home "$T/tl-ws-$v" "127.0.0.1:$port" "$code" >&2 || tl_fail "pairing the workstation failed"
}
tl_verify_tree() { # tl_verify_tree DIR WHAT: like verify_tree, but shows what differs
  diff -rq "$T/src/tree" "$1" >"$T/tl-diff.txt" 2>&1 && return 0
  echo "--- $(wc -l <"$T/tl-diff.txt") differences, first 10:" >&2; head -n 10 "$T/tl-diff.txt" >&2
  tl_fail "$2: copied tree differs from the source"
}
tl_connect() { # tl_connect VARIANT: starts that variant's workstation daemon and waits until it is connected
  local v=$1 jar=$TL_JAR
  [[ $v == base ]] && jar=$TL_BASE_JAR
  local vars=(THUNDERLINK_JAR="$jar")
  [[ $v == base && $BASELINE_LAUNCHER_OPTS == 0 ]] && vars+=(THUNDERLINK_CLI_JVM_OPTS=)
  env "${vars[@]}" THUNDERLINK_METRICS_PORT=0 "$TL_LAUNCHER" connect --home "$T/tl-ws-$v" \
    --no-inference --no-discover "127.0.0.1:${TL_PORT[$v]}" >>"$T/tl-ws-$v.log" 2>&1 & PIDS+=($!); TL_PIDS[$v]+="$! "; TL_WS_PID[$v]=$!
  tl_await "the workstation daemon ($v) to connect" 60 tl_connected "$v"
}
tl_disconnect() { # tl_disconnect VARIANT: stops that variant's workstation daemon (its host keeps running)
  local pid=${TL_WS_PID[$1]:-}
  [[ -n "$pid" ]] || return 0
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  TL_PIDS[$1]=${TL_PIDS[$1]//"$pid "/}; unset "TL_WS_PID[$1]"
}
tl_cp() { # tl_cp VARIANT JSON_OUT SRC DST: one push, its JSON summary kept; prints the wall-clock seconds
  # VARIANT solo: the new jar's cp --standalone, on the new variant's homes
  local a b v=$1 how=()
  [[ $v == solo ]] && { v=new; how=(--standalone); }
  a=$(now)
  tl_as "$v" cp "${how[@]}" --home "$T/tl-ws-$v" --no-progress --json "$3" "host:$4" >"$2" || tl_fail "cp $3 failed ($1)"
  b=$(now)
  elapsed "$a" "$b"
}
run_thunderlink() {
  log "thunderlink cp (host daemon and paired workstation on loopback; ${TL_VARIANTS[*]})"
  local v r what s i
  local -A WALL=() XFER=() TINY=() CPU=()
  local cps=("${TL_VARIANTS[@]}" solo)
  for v in "${TL_VARIANTS[@]}"; do tl_pair "$v"; tl_connect "$v"; done
  printf x >"$T/tiny.bin"
  for v in "${cps[@]}"; do fresh_dst; tl_cp "$v" "$T/tl-warm.json" "$T/tiny.bin" "$T/dst/tiny.bin" >/dev/null; done
  if [[ $WARM_COPIES -gt 0 && $DO_TREE == 1 ]]; then
    log "untimed: $WARM_COPIES copies of the tree per daemon variant first (--warm-copies)"
    for (( r = 1; r <= WARM_COPIES; r++ )); do
      for v in "${TL_VARIANTS[@]}"; do fresh_dst; tl_cp "$v" "$T/tl-warm.json" "$T/src/tree" "$T/dst/tree" >/dev/null; done
    done
  fi
  for what in file tree tiny; do
    [[ $what == file && $DO_FILE == 0 || $what == tree && $DO_TREE == 0 ]] && continue
    for (( r = 1; r <= RUNS; r++ )); do
      # the order rotates every run (base new solo, new solo base, ...): the first pays more of
      # the disk's write-back of the run before, which biased a fixed order (seen in the sync A/B)
      local order=()
      for (( i = 0; i < ${#cps[@]}; i++ )); do order+=("${cps[(i + r - 1) % ${#cps[@]}]}"); done
      for v in "${order[@]}"; do
        fresh_dst
        local cpu0; cpu0=$(tl_cpu "$v")
        case $what in
          file) s=$(tl_cp "$v" "$T/tl-cp-$v-file-$r.json" "$T/src/random.bin" "$T/dst/random.bin"); verify_file "$T/dst/random.bin" "thunderlink $v" ;;
          tree) s=$(tl_cp "$v" "$T/tl-cp-$v-tree-$r.json" "$T/src/tree" "$T/dst/tree"); tl_verify_tree "$T/dst/tree" "cp ($v)" ;;
          tiny) s=$(tl_cp "$v" "$T/tl-cp-$v-tiny-$r.json" "$T/tiny.bin" "$T/dst/tiny.bin") ;;
        esac
        WALL[$v.$what]+="$s "
        # the daemons' CPU (solo copies in the command itself: its daemons' figure is not the copy's)
        [[ $v == solo ]] || CPU[$v.$what]+="$(awk -v a="$cpu0" -v b="$(tl_cpu "$v")" 'BEGIN { printf "%.2f", b - a }') "
        XFER[$v.$what]+="$(jq -r '.seconds' "$T/tl-cp-$v-$what-$r.json") "
      done
    done
  done
  for v in "${TL_VARIANTS[@]}"; do tl_disconnect "$v"; done # the mirror rows start a fresh one
  for v in "${cps[@]}"; do
    local f="" t="" note="" mf k att
    [[ $DO_FILE == 1 ]] && f=$(median ${WALL[$v.file]})
    [[ $DO_TREE == 1 ]] && t=$(median ${WALL[$v.tree]})
    k=$([[ $DO_FILE == 1 ]] && echo file || echo tree)
    note="$(jq -r '.encrypted | if . then "TLS" else "plaintext" end' "$T/tl-cp-$v-$k-1.json") on loopback"
    note+=", $(jq -r 'if .daemon then "copied by the workstation daemon" else "copied by the command over its own link" end' "$T/tl-cp-$v-$k-1.json")"
    [[ $WARM_COPIES -gt 0 && $DO_TREE == 1 && $v != solo ]] && note+=" after $WARM_COPIES untimed copies of the tree (warm daemons)"
    [[ $v == base ]] && note+=", baseline jar $(basename "$(dirname "$(dirname "$(dirname "$TL_BASE_JAR")")")")/…/$(basename "$TL_BASE_JAR")$([[ $BASELINE_LAUNCHER_OPTS == 1 ]] && echo ", the launcher's command options" || echo ", plain java -jar")"
    for k in file tree; do
      [[ -n "${WALL[$v.$k]:-}" ]] || continue
      mf=$(jq -r '[.entries[].mode] | group_by(.) | map("\(.[0]) x\(length)") | join(", ")' "$T/tl-cp-$v-$k-1.json")
      note+="; $k: wall $(median ${WALL[$v.$k]}) s = cp's transfer $(median ${XFER[$v.$k]}) s + $(awk -v w="$(median ${WALL[$v.$k]})" -v x="$(median ${XFER[$v.$k]})" 'BEGIN { printf "%.2f", w - x }') s start-up/handshake ($mf)"
      [[ $RUNS -gt 1 ]] && note+=", runs ${WALL[$v.$k]% }"
      [[ -n "${CPU[$v.$k]:-}" ]] && note+=", daemons' CPU $(median ${CPU[$v.$k]}) s$([[ $RUNS -gt 1 ]] && echo " (runs ${CPU[$v.$k]% })")"
      att=$(cat "$T"/tl-cp-$v-$k-*.json | jq -s 'map(.attempts) | max')
      [[ "$att" == 1 ]] || note+=", up to $att attempts (the bulk session was reopened)"
    done
    note+="; 1-byte cp wall $(median ${WALL[$v.tiny]}) s (transfer $(median ${XFER[$v.tiny]}) s)"
    case $v in base) k=thunderlink-base ;; solo) k=thunderlink-standalone ;; *) k=thunderlink ;; esac
    record "$k" "$f" "$t" "$note"
  done
}
declare -A SYNC_WALL=() SYNC_CPU=() SYNC_HOST_CPU=() # per variant.direction: every run's seconds, daemons' CPU seconds, the host daemon's
run_thunderlink_sync() { # run_thunderlink_sync VARIANT push|pull|pull-file: one initial sync of the tree (or file),
  # on a fresh workstation daemon (--sync-warm: on the one the variant's last run used)
  local v=$1 dir=$2 local_dir remote_dir
  log "thunderlink sync ($v: workstation daemon, one two-way session, initial sync, $dir)"
  [[ -n "${TL_PORT[$v]:-}" ]] || tl_pair "$v"
  [[ -n "${TL_SYNC_WARMED[$v]:-}" ]] || tl_sync_warmup "$v"
  [[ $SYNC_WARM == 1 && -n "${TL_WS_PID[$v]:-}" ]] || tl_connect "$v"
  fresh_dst; mkdir -p "$T/dst/mirror"
  if [[ $dir == push ]]; then
    local_dir=$T/src/tree; remote_dir=$T/dst/mirror/tree
  else # the host holds the tree (under its bulk roots), the workstation an empty folder
    local_dir=$T/dst/ws-tree; remote_dir=$T/dst/mirror/tree
    if [[ $dir == pull ]]; then cp -a "$T/src/tree" "$remote_dir"; else mkdir -p "$remote_dir"; cp -a "$T/src/random.bin" "$remote_dir"; fi
    mkdir -p "$local_dir"; sync
  fi
  local a b cpu0 cpu1 host0 host1
  cpu0=$(tl_cpu "$v"); host0=$(pids_cpu "${TL_HOST_PID[$v]}")
  a=$(now)
  if [[ ${TL_SYNC_WAIT[$v]} == 1 ]]; then # one command: create, and return once the first sync is done
    tl_as "$v" sync create --home "$T/tl-ws-$v" --local "$local_dir" --remote "$remote_dir" --wait --timeout 1800 bench-tree >&2 ||
      tl_fail "sync create --wait failed or timed out ($v)"
  else
    tl_as "$v" sync create --home "$T/tl-ws-$v" --local "$local_dir" --remote "$remote_dir" bench-tree >&2 ||
      tl_fail "sync create failed ($v)"
    tl_as "$v" sync flush --home "$T/tl-ws-$v" --timeout 1800 bench-tree >&2 || tl_fail "sync flush failed or timed out ($v)"
  fi
  b=$(now)
  cpu1=$(tl_cpu "$v"); host1=$(pids_cpu "${TL_HOST_PID[$v]}")
  if [[ ${UNTIMED:-0} == 0 ]]; then
  SYNC_WALL[$v.$dir]+="$(elapsed "$a" "$b") "
  SYNC_CPU[$v.$dir]+="$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.1f", b - a }') "
  SYNC_HOST_CPU[$v.$dir]+="$(awk -v a="$host0" -v b="$host1" 'BEGIN { printf "%.1f", b - a }') "
  fi
  if [[ $dir == pull-file ]]; then
    verify_file "$local_dir/random.bin" "sync ($v, $dir)"
  else
    tl_verify_tree "$([[ $dir == push ]] && echo "$remote_dir" || echo "$local_dir")" "sync ($v, $dir)"
  fi
  # the next run creates the session again, on a workstation daemon started afresh (or, with
  # --sync-warm, on this one)
  tl_as "$v" sync terminate --home "$T/tl-ws-$v" bench-tree >/dev/null || tl_fail "sync terminate failed ($v)"
  # the host's index of the session goes too, as a first sync finds it (jars from before session
  # 10 kept it after terminate, and their next run's first host cycle wrote 20,420 tombstones)
  rm -rf "$T/tl-host-$v"/sync-host/*/bench-tree
  [[ $SYNC_WARM == 1 ]] || tl_disconnect "$v"
}
declare -A TL_SYNC_WARMED=() TL_SYNC_WAIT=()
tl_sync_warmup() { # tl_sync_warmup VARIANT: untimed, the sync commands' first runs (each writes the
  # launcher's class archive for its command after it, like cp's untimed 1-byte copy) on a 1-file
  # session, on a workstation daemon stopped after it so that run 1 still starts cold. Also finds
  # whether the variant's `sync create` has --wait (since session 13: create, and return once
  # the first sync is done, one command instead of create + flush; SYNC_CREATE_WAIT=0 in the
  # environment keeps the two commands)
  local v=$1 c
  TL_SYNC_WAIT[$v]=0
  if [[ ${SYNC_CREATE_WAIT:-1} == 1 ]] && tl_as "$v" sync create --help 2>/dev/null | grep -q -- '--wait'; then TL_SYNC_WAIT[$v]=1; fi
  tl_connect "$v"
  fresh_dst; mkdir -p "$T/dst/warm-src" "$T/dst/warm-dst"; echo warm-up >"$T/dst/warm-src/a.txt"
  local cmds=("create --local $T/dst/warm-src --remote $T/dst/warm-dst warm-up" "flush warm-up" "terminate warm-up")
  [[ ${TL_SYNC_WAIT[$v]} == 1 ]] && cmds=("create --local $T/dst/warm-src --remote $T/dst/warm-dst --wait warm-up" "terminate warm-up")
  for c in "${cmds[@]}"; do
    # shellcheck disable=SC2086 # the words of $c are the subcommand's arguments
    tl_as "$v" sync $c --home "$T/tl-ws-$v" >/dev/null || tl_fail "the untimed sync $c failed ($v)"
  done
  tl_disconnect "$v"
  TL_SYNC_WARMED[$v]=1
}
tl_cpu() { # tl_cpu VARIANT: CPU seconds (user + system) used so far by that variant's daemons; on a
  # shared machine it moves far less with the load than the wall clock does
  pids_cpu ${TL_PIDS[$1]:-}
}
pids_cpu() { # pids_cpu PID...: CPU seconds (user + system) used so far by those processes
  local pid ticks=0 hz
  hz=$(getconf CLK_TCK)
  for pid in "$@"; do
    [[ -r /proc/$pid/stat ]] || continue
    ticks=$(( ticks + $(sed 's/^.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }') ))
  done
  awk -v t="$ticks" -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }'
}
tl_stop() { # tl_stop VARIANT: stops its daemons, so an idle one's watcher does not disturb the next run
  local pid
  for pid in ${TL_PIDS[$1]:-}; do kill "$pid" 2>/dev/null || true; done
  for pid in ${TL_PIDS[$1]:-}; do wait "$pid" 2>/dev/null || true; done
  TL_PIDS[$1]=""; unset "TL_PORT[$1]"
}
if wanted thunderlink; then run_thunderlink; fi
for dir in push pull pull-file; do
  row=thunderlink-sync; where=""
  [[ $dir == pull ]] && { row+=-pull; where=", the tree on the host, the workstation's folder empty"; }
  [[ $dir == pull-file ]] && { row+=-pull-file; where=", the random file on the host, the workstation's folder empty"; }
  if wanted "$row" && [[ $dir == pull-file && $DO_FILE == 0 ]]; then
    log "$row needs the random file (no --no-file)"
  elif wanted "$row" && [[ $dir != pull-file && $DO_TREE == 0 ]]; then
    log "$row needs the tree (no --no-tree)"
  elif wanted "$row"; then
    # each variant on its own daemons; the order rotates every run, as for cp: the second of a
    # pair paid the disk's write-back of the first's 170 MB (seen as a bias in session 8's A/B)
    for (( r = 1; r <= RUNS; r++ )); do
      for (( i = 0; i < ${#TL_VARIANTS[@]}; i++ )); do
        run_thunderlink_sync "${TL_VARIANTS[(i + r - 1) % ${#TL_VARIANTS[@]}]}" "$dir"
      done
      if [[ $r == 1 && $WARM_SYNCS -gt 0 ]]; then # after the cold run 1: untimed ones on the same daemons
        log "untimed: $WARM_SYNCS more first syncs per daemon variant (--warm-syncs)"
        for (( w = 0; w < WARM_SYNCS; w++ )); do
          for v in "${TL_VARIANTS[@]}"; do UNTIMED=1 run_thunderlink_sync "$v" "$dir"; done
        done
      fi
    done
    for v in "${TL_VARIANTS[@]}"; do
      k=$v.$dir
      walls=(${SYNC_WALL[$k]}) cpus=(${SYNC_CPU[$k]}) hosts=(${SYNC_HOST_CPU[$k]})
      if [[ ${TL_SYNC_WAIT[$v]:-0} == 1 ]]; then
        note="two-way-safe session$where, \`sync create --wait\` until it returns (first sync done; one JVM start included)"
      else
        note="two-way-safe session$where, sync create until sync flush returns (two JVM starts included)"
      fi
      if [[ $SYNC_WARM == 1 ]]; then # run 1 on a fresh workstation daemon, the rest on the same one
        note+=", warm workstation daemon: median of runs 2-$RUNS$( (( WARM_SYNCS > 0 )) && echo " (after $WARM_SYNCS untimed first syncs more)" || true), daemons' CPU $(median "${cpus[@]:1}") s (host daemon's $(median "${hosts[@]:1}") s); cold run 1 ${walls[0]} s (CPU ${cpus[0]} s, host ${hosts[0]} s)"
        walls=("${walls[@]:1}")
        tl_disconnect "$v" # the next direction's run 1 starts cold too
      else
        note+="; daemons' CPU $(median "${cpus[@]}") s (host daemon's $(median "${hosts[@]}") s)"
      fi
      [[ $RUNS -gt 1 ]] && note+=", runs ${SYNC_WALL[$k]% } s (CPU ${SYNC_CPU[$k]% } s, host ${SYNC_HOST_CPU[$k]% } s)"
      note+=", load after $(cut -d' ' -f1 /proc/loadavg)"
      [[ $v == base ]] && note+=", baseline jar $(basename "$TL_BASE_JAR")"
      if [[ $dir == pull-file ]]; then
        record "$row$([[ $v == base ]] && echo -base)" "$(median "${walls[@]}")" "" "$note"
      else
        record "$row$([[ $v == base ]] && echo -base)" "" "$(median "${walls[@]}")" "$note"
      fi
    done
  fi
done
for v in "${TL_VARIANTS[@]}"; do tl_stop "$v"; done
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
  echo "Destination on the same file system as the source ($(df --output=fstype "$T" 2>/dev/null | tail -1), $T); times are wall clock of one run (the median of $RUNS where more), page cache warm for the source; load before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg)."
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
