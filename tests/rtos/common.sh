# Sourced by run.sh and run_doorbell.sh (tests/rtos), with their arguments:
#   HVCOMM_TOOL HOST TOOL SOURCE_DIR BUILD_DIR -- CORE_SOURCES...
# Sets gen, host, tool, src, out, core (the core sources, absolute), tests,
# port, lwip, and the riscv64 toolchain (cc, arch, cflags); need() gives
# SKIP (77) for a missing program; the cross compiler, QEMU and picolibc
# are checked here, lwIP and the vnet driver cross-built once
# (ports/rtos-guest/lwip.sh) into $out/liblwip-vnet.a.
gen=$1 host=$2 tool=$3 src=$4 out=$5
shift 5
[ "${1:-}" = "--" ] && shift
core=
for f in "$@"; do
    case $f in /*) core="$core $f" ;; *) core="$core $src/$f" ;; esac
done
mkdir -p "$out"
need() {
    command -v "$1" >/dev/null 2>&1 || { echo "SKIP: $1 not installed (Debian package $2)"; exit 77; }
}
cc=riscv64-unknown-elf-gcc
specs=/usr/lib/picolibc/riscv64-unknown-elf/picolibc.specs
need $cc gcc-riscv64-unknown-elf
need qemu-system-riscv64 qemu-system-misc
[ -e "$specs" ] || { echo "SKIP: $specs missing (Debian package picolibc-riscv64-unknown-elf)"; exit 77; }
tests=$src/tests/rtos
port=$src/ports/riscv-virt
arch="-misa-spec=2.2 -march=rv64imac -mabi=lp64 -mcmodel=medany"
cflags="-std=gnu11 -ffreestanding -O2 -g -ffunction-sections -fdata-sections --specs=$specs"
# shellcheck disable=SC2086
sh "$src/ports/rtos-guest/lwip.sh" "$src" "$out/liblwip-vnet.a" $cc $arch $cflags
lwip=${HVC_LWIP_DIR:-$src/third_party/lwip}
