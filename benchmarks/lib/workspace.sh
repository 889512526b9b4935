# Sourced by the benchmark scripts that run daemons: a workspace under TMPDIR, the daemons'
# PIDs killed and the workspace removed on exit (kept with KEEP=1), a timestamped log line, and
# an await with a deadline. The sourcing script defines die() first and sets KEEP.
#   workspace NAME   sets T (the workspace) and PIDS (append each daemon's PID), traps EXIT
workspace() {
  T=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  PIDS=()
  trap cleanup EXIT
}
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [[ ${KEEP:-0} == 1 ]] && echo "kept $T" >&2 || rm -rf "$T"
}
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
await() { # await WHAT TIMEOUT_S COMMAND...
  local deadline=$(( $(date +%s) + $2 )) what=$1; shift 2
  until "$@" >/dev/null 2>&1; do
    (( $(date +%s) < deadline )) || die "timed out waiting for $what (logs in $T, kept)"
    sleep 0.2
  done
}
