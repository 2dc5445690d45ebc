#!/bin/sh
# Build one bare-metal test image for BOARD with its cross compiler and run
# it under QEMU; QEMU's exit status is the result. A missing compiler or
# QEMU gives SKIP (77) with the reason.
# The two-core image compiles in the system table that `hvcomm gen` writes
# from twocore.yaml with the board's base address: HVC_GEN names the tool.
# Usage: [HVC_GEN=path/to/hvcomm] run.sh BOARD SOURCE_DIR BUILD_DIR [MODE] -- CORE_SOURCES...
#   BOARD: riscv-virt | aarch64-virt | mps2-an521 | mps2-an386
#   MODE:  test (default: the test image) | size (the code-size report)
set -eu
board=$1 src=$2 out=$3
shift 3
mode=test
if [ "${1:-}" != "--" ]; then mode=$1; shift; fi
[ "${1:-}" = "--" ] && shift
# CMake's list mixes absolute and source-relative paths.
core=
for f in "$@"; do
    case $f in /*) core="$core $f" ;; *) core="$core $src/$f" ;; esac
done
mkdir -p "$out"

need() {
    command -v "$1" >/dev/null 2>&1 || { echo "SKIP: $1 not installed (Debian package $2)"; exit 77; }
}
need_file() {
    [ -e "$1" ] || { echo "SKIP: $1 missing (Debian package $2)"; exit 77; }
}

warn="-Wall -Wextra -Werror -Wno-unused-parameter"
common="-std=gnu11 -ffreestanding -O2 -g -ffunction-sections -fdata-sections -I$src/include"
tests="$src/tests/baremetal"
backend="$src/src/platform/baremetal/backend.c"
port="$src/ports/$board"
case $board in
riscv-virt)
    base=0x80400000
    cc=riscv64-unknown-elf-gcc pkg=gcc-riscv64-unknown-elf
    qemu=qemu-system-riscv64 qpkg=qemu-system-misc
    specs=/usr/lib/picolibc/riscv64-unknown-elf/picolibc.specs spkg=picolibc-riscv64-unknown-elf
    arch="-misa-spec=2.2 -march=rv64imac -mabi=lp64 -mcmodel=medany"
    drivers="$src/src/platform/baremetal/doorbell_clint.c"
    qargs="-M virt -smp 2 -bios none -nographic -monitor none -serial stdio"
    ;;
aarch64-virt)
    base=0x40400000
    cc=aarch64-linux-gnu-gcc pkg=gcc-aarch64-linux-gnu
    qemu=qemu-system-aarch64 qpkg=qemu-system-arm
    specs=/usr/lib/picolibc/aarch64-linux-gnu/picolibc.specs spkg=picolibc-aarch64-linux-gnu
    arch="-mgeneral-regs-only -mstrict-align -fno-pie -no-pie"
    drivers="$src/src/platform/baremetal/doorbell_gicv3.c"
    qargs="-M virt,gic-version=3 -cpu cortex-a53 -smp 2 -nographic -monitor none -serial stdio -semihosting"
    ;;
mps2-an521)
    base=0x38000000
    cc=arm-none-eabi-gcc pkg=gcc-arm-none-eabi
    qemu=qemu-system-arm qpkg=qemu-system-arm
    specs=/usr/lib/picolibc/arm-none-eabi/picolibc.specs spkg=picolibc-arm-none-eabi
    arch="-mcpu=cortex-m33 -mthumb -mfloat-abi=soft"
    drivers="$src/src/platform/baremetal/doorbell_mhu.c"
    qargs="-M mps2-an521 -smp 2 -nographic -monitor none -serial none -semihosting-config enable=on,target=native"
    ;;
mps2-an386)
    base=
    cc=arm-none-eabi-gcc pkg=gcc-arm-none-eabi
    qemu=qemu-system-arm qpkg=qemu-system-arm
    specs=/usr/lib/picolibc/arm-none-eabi/picolibc.specs spkg=picolibc-arm-none-eabi
    arch="-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16"
    drivers="$src/src/platform/baremetal/doorbell_ivshmem.c" # plain MMIO: unit-tested on RAM
    qargs="-M mps2-an386 -nographic -monitor none -serial none -semihosting-config enable=on,target=native"
    ;;
*)
    echo "unknown board $board"; exit 2 ;;
esac
need $cc $pkg
need_file "$specs" "$spkg"
[ "$mode" = test ] && need $qemu $qpkg

# shellcheck disable=SC2086
build() { # build ELF SOURCES...: compile and link with the port
    elf=$1; shift
    if [ "$board" = mps2-an386 ]; then
        $cc $arch $common $warn --specs="$specs" --oslib=semihost -Wl,--gc-sections \
            -Wl,--defsym=__flash=0x0 -Wl,--defsym=__flash_size=0x400000 \
            -Wl,--defsym=__ram=0x20000000 -Wl,--defsym=__ram_size=0x400000 \
            -Wl,-Map="$elf.map" -o "$elf" "$@" $core $backend $drivers
    else
        start=
        [ -f "$port"/start.S ] && start="$port"/start.S
        $cc $arch $common $warn --specs="$specs" -nostartfiles -T "$port/link.ld" \
            -Wl,--gc-sections -Wl,-Map="$elf.map" -o "$elf" $start "$port"/board.c \
            "$@" $core $backend $drivers -lc -lgcc
    fi
}

gen_table() { # the system table of the two-core image, for this board
    gen=${HVC_GEN:-}
    if [ -z "$gen" ] || [ ! -x "$gen" ]; then
        echo "SKIP: the hvcomm tool is needed to generate the system table (HVC_GEN; build with HVC_BUILD_TOOLS=ON)"
        exit 77
    fi
    sed "s/@BASE@/$base/" "$tests/twocore.yaml" > "$out/twocore.yaml"
    "$gen" gen "$out/twocore.yaml" -o "$out/system.c" --name hvc_system_twocore >/dev/null
}

case $mode in
test)
    if [ "$board" = mps2-an386 ]; then
        build "$out/unit.elf" "$tests"/unit.c "$port"/board.c
        elf=$out/unit.elf
    else
        gen_table
        build "$out/twocore.elf" "$out/system.c" "$tests"/twocore.c "$tests"/hostile.c "$tests"/bench.c "$tests"/bmlib.c
        elf=$out/twocore.elf
    fi
    # shellcheck disable=SC2086
    exec timeout ${HVC_BM_TIMEOUT:-120} $qemu $qargs -kernel "$elf"
    ;;
size)
    [ "$board" = mps2-an386 ] || gen_table
    exec sh "$tests"/size.sh "$board" "$src" "$out" "$cc" "$arch" "$specs" "$port" -- $core
    ;;
esac
