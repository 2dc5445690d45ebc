#!/bin/sh
# Run one ivshmem scenario in real QEMU virtual machines.
#
#   qemu.sh SCENARIO --driver BIN --guest BIN --server BIN --cache DIR
#
# Gets what it needs when it can: QEMU (apt-get install qemu-system-x86, as
# root), cpio, and a Debian cloud kernel (apt-get download
# linux-image-*-cloud-amd64, unpacked with dpkg -x into the cache, not
# installed). Builds an initramfs around the static guest program and the
# kernel's VFIO modules, then runs the host driver. Exit 77 (SKIP) with the
# reason when something cannot be had.
#
# Environment: HVC_QEMU_TESTS=1 to run at all (they boot VMs: ~5-20 s each
# under TCG); HVC_QEMU_ACCEL=tcg|kvm (default tcg: the nested /dev/kvm of
# our CI machines cannot boot Linux); HVC_QEMU_ROUNDS (default 20).
set -eu

scenario=$1
shift
driver= guest= server= cache=
while [ $# -gt 0 ]; do
    case $1 in
    --driver) driver=$2; shift 2 ;;
    --guest) guest=$2; shift 2 ;;
    --server) server=$2; shift 2 ;;
    --cache) cache=$2; shift 2 ;;
    *) echo "qemu.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

skip() {
    echo "SKIP: $*"
    exit 77
}

[ "${HVC_QEMU_TESTS:-0}" = 1 ] ||
    skip "QEMU tests boot real virtual machines; set HVC_QEMU_TESTS=1 to run them"

as_root_install() { # PACKAGE...
    [ "$(id -u)" = 0 ] || return 1
    command -v apt-get >/dev/null 2>&1 || return 1
    echo "installing $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1 ||
        { apt-get update >/dev/null 2>&1 &&
          DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1; }
}

mkdir -p "$cache"
# Parallel scenarios share the cache: one at a time prepares it.
exec 9>"$cache/.lock"
flock 9

command -v qemu-system-x86_64 >/dev/null 2>&1 || as_root_install qemu-system-x86 ||
    skip "no qemu-system-x86_64 and cannot install qemu-system-x86 (not root or no apt)"
command -v cpio >/dev/null 2>&1 || as_root_install cpio ||
    skip "no cpio and cannot install it"
qemu=$(command -v qemu-system-x86_64)

# ---- kernel ----
kdir=$cache/kernel
if ! ls "$kdir"/boot/vmlinuz-* >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || skip "no apt-get to fetch a Debian kernel"
    pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
          sed -n 's/.*Depends: \(linux-image-[^ ]*-cloud-amd64\).*/\1/p' | head -n 1)
    [ -n "$pkg" ] || { apt-get update >/dev/null 2>&1 || true
        pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
              sed -n 's/.*Depends: \(linux-image-[^ ]*-cloud-amd64\).*/\1/p' | head -n 1); }
    [ -n "$pkg" ] || skip "apt knows no linux-image-cloud-amd64"
    rm -rf "$cache/deb" && mkdir -p "$cache/deb"
    (cd "$cache/deb" && apt-get download "$pkg" >/dev/null 2>&1) ||
        skip "cannot download $pkg"
    rm -rf "$kdir.tmp" && dpkg -x "$cache"/deb/*.deb "$kdir.tmp" && mv "$kdir.tmp" "$kdir"
    rm -rf "$cache/deb"
fi
vmlinuz=$(ls "$kdir"/boot/vmlinuz-* | head -n 1)
moddir=$(ls -d "$kdir"/lib/modules/* | head -n 1)

# ---- initramfs: /init (static guest program), VFIO modules, /modules ----
initrd=$cache/initrd.gz
if [ ! -f "$initrd" ] || [ "$guest" -nt "$initrd" ] || [ "$0" -nt "$initrd" ]; then
    stage=$cache/initrd.d
    rm -rf "$stage" && mkdir -p "$stage/lib/modules" "$stage/dev" "$stage/proc" "$stage/sys"
    cp "$guest" "$stage/init"
    chmod 755 "$stage/init"
    : >"$stage/modules"
    # Add a module after its dependencies (the "depends=" field of .modinfo).
    # A subshell per call: sh has no local variables, and this recurses.
    add_module() ( # NAME
        grep -qx "$1.ko.*" "$stage/modules" 2>/dev/null && return 0
        f=$(find "$moddir" -name "$1.ko" -o -name "$1.ko.xz" -o -name "$1.ko.zst" | head -n 1)
        if [ -z "$f" ]; then
            # module names use - and _ interchangeably
            alt=$(echo "$1" | tr '_-' '-_')
            f=$(find "$moddir" -name "$alt.ko" -o -name "$alt.ko.xz" | head -n 1)
        fi
        [ -n "$f" ] || { echo "qemu.sh: module $1 not found (built in?)"; return 0; }
        base=$(basename "$f")
        case $base in
        *.ko.xz) xz -dc "$f" >"$stage/lib/modules/${base%.xz}"; base=${base%.xz} ;;
        *.ko.zst) zstd -qdc "$f" >"$stage/lib/modules/${base%.zst}"; base=${base%.zst} ;;
        *) cp "$f" "$stage/lib/modules/$base" ;;
        esac
        deps=$(grep -a -o 'depends=[^[:cntrl:]]*' "$stage/lib/modules/$base" | head -n 1 |
               sed 's/^depends=//; s/,/ /g')
        for d in $deps; do add_module "$d"; done
        grep -qx "$base.*" "$stage/modules" || echo "$base" >>"$stage/modules"
    )
    for m in vfio vfio_iommu_type1 vfio-pci; do add_module "$m"; done
    (cd "$stage" && find . | cpio -o -H newc --quiet) | gzip -1 >"$initrd.tmp"
    mv "$initrd.tmp" "$initrd"
    echo "initramfs: $(wc -c <"$initrd") bytes, modules: $(tr '\n' ' ' <"$stage/modules")"
fi
flock -u 9

work=$cache/run-$scenario
rm -rf "$work" && mkdir -p "$work"
accel=${HVC_QEMU_ACCEL:-tcg}
echo "qemu: $($qemu --version | head -n 1); kernel: $(basename "$vmlinuz"); accel: $accel"
exec timeout -k 5 600 "$driver" "$scenario" --qemu "$qemu" --kernel "$vmlinuz" \
    --initrd "$initrd" --server "$server" --work "$work" --accel "$accel" \
    --rounds "${HVC_QEMU_ROUNDS:-20}" --timeout 300
