#!/bin/sh
# Code size of the hvcomm core per target at -Os with --gc-sections: in the
# full two-core test image (every module used; the an386 unit-test image on
# Cortex-M4) and in the minimal guest (minimal.c: region attach + one ring,
# polling). The core and the backend are compiled into their own objects so
# that the linker map tells their bytes from the rest of the image.
# Usage (from run.sh): size.sh BOARD SRC OUT CC ARCH SPECS PORT -- CORE...
set -eu
board=$1 src=$2 top=$3 out=$3/size cc=$4 arch=$5 specs=$6 port=$7
shift 8
rm -rf "$out"
mkdir -p "$out/core" "$out/bm"
flags="-std=gnu11 -ffreestanding -Os -ffunction-sections -fdata-sections -I$src/include"
for f in "$@"; do
    case $f in /*) ;; *) f=$src/$f ;; esac
    # shellcheck disable=SC2086
    $cc $arch $flags -c "$f" -o "$out/core/$(basename "$(dirname "$f")")_$(basename "$f" .c).o"
done
for f in "$src"/src/platform/baremetal/*.c; do
    # shellcheck disable=SC2086
    $cc $arch $flags -c "$f" -o "$out/bm/$(basename "$f" .c).o"
done
tests=$src/tests/baremetal
case $board in
riscv-virt) ram=0x80000000 shm=0x80400000 ;;
aarch64-virt) ram=0x40080000 shm=0x40400000 ;;
mps2-an521) ram=0x10000000 shm=0x38000000 ;;
mps2-an386) ram=0x20000000 shm=0x20300000 ;;
esac
# shellcheck disable=SC2086
link_min() {
    $cc $arch $flags -DMIN_SHM_BASE=$shm --specs="$specs" -Wl,--gc-sections \
        -Wl,--defsym=__flash=$ram -Wl,--defsym=__flash_size=0x100000 \
        -Wl,--defsym=__ram=$((ram + 0x100000)) -Wl,--defsym=__ram_size=0x100000 \
        -Wl,-Map="$out/min.map" -o "$out/min.elf" "$tests/minimal.c" \
        "$out"/core/*.o "$out"/bm/backend.o
}
# shellcheck disable=SC2086
link_full() {
    if [ "$board" = mps2-an386 ]; then
        $cc $arch $flags --specs="$specs" --oslib=semihost -Wl,--gc-sections \
            -Wl,--defsym=__flash=0x0 -Wl,--defsym=__flash_size=0x400000 \
            -Wl,--defsym=__ram=0x20000000 -Wl,--defsym=__ram_size=0x400000 \
            -Wl,-Map="$out/full.map" -o "$out/full.elf" "$tests/unit.c" "$port/board.c" \
            "$out"/core/*.o "$out"/bm/*.o
    else
        start=
        [ -f "$port"/start.S ] && start="$port"/start.S
        $cc $arch $flags --specs="$specs" -nostartfiles -T "$port/link.ld" -Wl,--gc-sections \
            -Wl,-Map="$out/full.map" -o "$out/full.elf" $start "$port/board.c" \
            "$top"/system.c "$tests"/twocore.c "$tests"/hostile.c "$tests"/bench.c "$tests"/bmlib.c \
            "$out"/core/*.o "$out"/bm/*.o -lc -lgcc
    fi
}
# Bytes of kept input sections from objects under DIR, by kind, from a map:
# "flash" = text + rodata + data (initial values), "ram" = data + bss.
count() { # MAP DIR
    awk -v dir="/$2/" '
        function hex(s,   i, v) {
            v = 0; s = tolower(substr(s, 3))
            for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
            return v
        }
        /^Linker script and memory map/ { kept = 1 }
        !kept { next }
        # an input section: its name alone on a line, or followed by address, size, file
        /^ \.[a-z]/ { name = $1; if (NF >= 4) { sz = $3; file = $4 } else { pending = 1; next } }
        pending == 1 { pending = 0; if (NF >= 3) { sz = $2; file = $3 } else next }
        name != "" && file != "" {
            if (index(file, dir) && sz ~ /^0x/) {
                n = hex(sz)
                if (name ~ /^\.(text|rodata|srodata)/) flash += n
                else if (name ~ /^\.(data|sdata)/) { flash += n; ram += n }
                else if (name ~ /^\.(bss|sbss)/ || name == "COMMON") ram += n
            }
            name = ""; file = ""
        }
        END { printf "%d %d\n", flash, ram }' "$1"
}
link_min
link_full
set -- $(count "$out/full.map" core) $(count "$out/full.map" bm) \
       $(count "$out/min.map" core) $(count "$out/min.map" bm)
echo "| $board | $1 | $3 | $5 | $7 | $(( $5 + $7 )) | $(( $6 + $8 )) |"
