#!/usr/bin/env bash
# fresh-ext4.sh - runs a command with TMPDIR on a freshly made ext4 file system, so that disk
# figures do not depend on what earlier runs left on the machine's own disk.
#
# Usage: benchmarks/fresh-ext4.sh [--size 4g] [--image-dir DIR] [--] COMMAND [ARG...]
#   e.g. benchmarks/fresh-ext4.sh -- benchmarks/peer-compare.sh --no-file --runs 4 --sync-warm
#   --size       the file system's size (default 4g; a 20,000-file tree and two copies need ~1g)
#   --image-dir  where its backing image goes (default /var/tmp: a disk, so the writes reach a
#                disk as they would on the machine's own file system; /dev/shm puts ext4's own
#                CPU costs in the figures without the disk's)
#
# Why: this machine's root file system is an ext4 without a journal that benchmarks have filled
# and emptied many times; after a run deletes 20,000 files its inode allocator scans recently
# deleted inodes, and every tool's tree figures swung 1-14 s with the disk's state (an rsync
# daemon's runs 1.08-13.01 s in one table). On a fresh ext4 (default mkfs options: journal,
# on a loop device) the same rsync daemon ran 1.22 1.69 1.28 1.22 s.
#
# Needs root (mount), mkfs.ext4 (e2fsprogs) and a free loop device. The file system is
# unmounted and its image removed on exit, whatever the command's outcome; the command's exit
# status is this script's.
set -euo pipefail

SIZE=4g
IMAGE_DIR=/var/tmp
die() { echo "fresh-ext4.sh: $*" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --size) [[ $# -ge 2 ]] || die "--size needs a value (e.g. 4g)"; SIZE=$2; shift 2 ;;
    --image-dir) [[ $# -ge 2 ]] || die "--image-dir needs a directory"; IMAGE_DIR=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; break ;;
    -*) die "unknown option: $1 (expected: --size, --image-dir, --help, then the command)" ;;
    *) break ;;
  esac
done
[[ $# -gt 0 ]] || die "no command given; e.g. fresh-ext4.sh -- benchmarks/peer-compare.sh --no-file"
[[ $(id -u) == 0 ]] || die "mounting needs root; run it with sudo or as root"
command -v mkfs.ext4 >/dev/null || die "mkfs.ext4 is missing; install e2fsprogs (apt-get install e2fsprogs)"
[[ -d "$IMAGE_DIR" ]] || die "no directory $IMAGE_DIR for the image; pass --image-dir"

IMAGE="$(mktemp "$IMAGE_DIR/fresh-ext4.XXXXXX.img")"
MNT="$(mktemp -d /tmp/fresh-ext4.XXXXXX)"
MOUNTED=0
cleanup() {
  if [[ $MOUNTED == 1 ]]; then
    umount "$MNT" 2>/dev/null || { sleep 2; umount -l "$MNT" 2>/dev/null || true; }
  fi
  rmdir "$MNT" 2>/dev/null || true
  rm -f "$IMAGE"
}
trap cleanup EXIT
truncate -s "$SIZE" "$IMAGE" || die "cannot make a $SIZE image in $IMAGE_DIR (is there room?)"
mkfs.ext4 -q -F "$IMAGE" >/dev/null || die "mkfs.ext4 failed on $IMAGE"
mount -o loop "$IMAGE" "$MNT" 2>/dev/null \
  || die "cannot loop-mount an image here (no loop devices in this container?); run the command without this script"
MOUNTED=1
echo "fresh-ext4.sh: a fresh ext4 ($SIZE, image in $IMAGE_DIR) at $MNT; TMPDIR=$MNT" >&2
set +e
TMPDIR="$MNT" "$@"
rc=$?
set -e
exit $rc
