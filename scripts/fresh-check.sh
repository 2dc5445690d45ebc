#!/usr/bin/env bash
# Run the README's two commands on a fresh Debian 12 root, as a new user would.
#
# Builds a minimal Debian 12 (bookworm) root with debootstrap, mounts what a
# real machine has (/proc, /sys, /dev, /dev/pts, a tmpfs /dev/shm, a tmpfs
# /run), clones this repository (its committed HEAD, not the work tree) into
# it, and runs `./scripts/demo.sh` and `./scripts/test.sh` there as root.
# Reports pass/fail and the time of each; unmounts everything on the way out,
# whatever happens. Not part of .ci/run: run it before resolving an issue that
# changes what the scripts install.
#
# Usage: scripts/fresh-check.sh [--dir DIR] [--keep] [--only demo|test]
#   --dir DIR   where the root goes (default: /var/tmp/hvcomm-fresh)
#   --keep      leave the root in place afterwards (it is removed by default)
#   --only X    run only the demo or only the test command
# Needs root, debootstrap (installed if missing) and Debian's archive.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
dir=/var/tmp/hvcomm-fresh
keep=0
only=
while [ $# -gt 0 ]; do
    case $1 in
        --dir) dir=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        --only) only=$2; shift 2 ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "fresh-check: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
case $only in ''|demo|test) ;; *) echo "fresh-check: --only demo|test" >&2; exit 2 ;; esac
if [ "$(id -u)" -ne 0 ]; then
    echo "fresh-check: needs root (debootstrap, mounts, chroot)" >&2
    exit 2
fi
. "$repo/scripts/deps.sh"
need_pkgs debootstrap git ca-certificates

root=$dir/root
mounts=()
cleanup() {
    local rc=$?
    # Unmount in reverse order; lazily if something still holds a mount.
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" 2>/dev/null || true
    done
    # Anything a test mounted below the root (network namespaces in /run).
    # (grep finds nothing in the usual case: not an error under pipefail)
    { grep -o " $root[^ ]*" /proc/mounts 2>/dev/null || true; } | sort -r | while read -r m; do
        umount -l "$m" 2>/dev/null || true
    done
    if [ "$keep" -eq 0 ]; then
        rm -rf --one-file-system "$dir"
    else
        echo "fresh-check: root kept in $root"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mnt() { # mnt TYPE SRC DEST [OPTS]
    mkdir -p "$3"
    if [ "$1" = bind ]; then
        mount --bind "$2" "$3"
    else
        mount -t "$1" ${4:+-o "$4"} "$2" "$3"
    fi
    mounts+=("$3")
}

rm -rf --one-file-system "$dir"
mkdir -p "$dir"
t0=$(date +%s)
echo "==== debootstrap bookworm (minbase) into $root"
debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian \
    > "$dir/debootstrap.log" 2>&1 || { tail -20 "$dir/debootstrap.log"; exit 1; }
echo "     $(($(date +%s) - t0)) s"

cp /etc/resolv.conf "$root/etc/resolv.conf"
mnt proc proc "$root/proc"
mnt sysfs sysfs "$root/sys"
mnt bind /dev "$root/dev"
mnt devpts devpts "$root/dev/pts" newinstance,ptmxmode=0666
mnt tmpfs tmpfs "$root/dev/shm" mode=1777
mnt tmpfs tmpfs "$root/run" mode=0755

commit=$(git -C "$repo" rev-parse --short HEAD)
echo "==== clone $commit into the root"
git clone -q "$repo" "$root/root/hvcomm"
git -C "$root/root/hvcomm" checkout -q "$commit"

run() { # run NAME COMMAND
    local t=$(date +%s) rc=0
    echo "==== $1: $2 (log: $dir/$1.log)"
    chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        /bin/bash -c "cd /root/hvcomm && $2" > "$dir/$1.log" 2>&1 || rc=$?
    local s=$(($(date +%s) - t))
    if [ $rc -eq 0 ]; then
        echo "     PASS in ${s} s"
    else
        echo "     FAIL (exit $rc) after ${s} s; last lines:"
        tail -25 "$dir/$1.log" | sed 's/^/     | /'
        # Keep the logs next to the caller when the root goes away.
        cp "$dir/$1.log" "/tmp/hvcomm-fresh-$1.log"
        echo "     log copied to /tmp/hvcomm-fresh-$1.log"
    fi
    results+=("$1: $([ $rc -eq 0 ] && echo pass || echo "FAIL ($rc)") in ${s} s")
    return $rc
}

results=()
status=0
[ "$only" = test ] || run demo ./scripts/demo.sh || status=1
[ "$only" = demo ] || run test ./scripts/test.sh || status=1

echo "==== fresh Debian 12 root, commit $commit"
for r in "${results[@]}"; do echo "     $r"; done
echo "     total $(($(date +%s) - t0)) s"
exit $status
