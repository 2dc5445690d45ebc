#!/bin/sh
# The core configures and builds as a static library for a cross target
# with a toolchain file (cmake/arm-none-eabi.cmake): no shared library, no
# version script, no Check, no hosted backend. Checks the archive is ARM code
# and calls nothing outside itself but the freestanding allowance.
# Usage: cross_build.sh SOURCE_DIR
set -eu
src=$1
command -v arm-none-eabi-gcc >/dev/null 2>&1 ||
    { echo "SKIP: arm-none-eabi-gcc not installed (gcc-arm-none-eabi)"; exit 77; }
work=$(mktemp -d /tmp/hvct-cross.XXXXXX)
trap 'rm -rf "$work"' EXIT
cmake -S "$src" -B "$work" -DCMAKE_TOOLCHAIN_FILE="$src/cmake/arm-none-eabi.cmake" \
    -DCMAKE_BUILD_TYPE=MinSizeRel -DBUILD_SHARED_LIBS=OFF -DBUILD_TESTING=OFF \
    -DHVC_BUILD_TOOLS=OFF -DHVC_BUILD_EXAMPLES=OFF -DHVC_BUILD_BENCH=OFF \
    -DHVC_BUILD_VNET=OFF -DHVC_BUILD_CONFIG=OFF -DHVC_WERROR=ON > "$work/configure.log" ||
    { cat "$work/configure.log"; echo "FAIL: configure"; exit 1; }
cmake --build "$work" --target hvcomm_static -j2 > "$work/build.log" 2>&1 ||
    { cat "$work/build.log"; echo "FAIL: build"; exit 1; }
lib=$work/libhvcomm.a
[ -f "$lib" ] || { echo "FAIL: no $lib"; exit 1; }
[ ! -e "$work/libhvcomm.so" ] || { echo "FAIL: a shared library was built"; exit 1; }
arm-none-eabi-objdump -f "$lib" | grep -q "elf32-littlearm" ||
    { echo "FAIL: not ARM code"; exit 1; }
undef=$(arm-none-eabi-nm -u "$lib" | awk 'NF == 2 {print $2}' | sort -u)
defined=$(arm-none-eabi-nm --defined-only "$lib" | awk 'NF == 3 {print $3}' | sort -u)
for s in $undef; do
    case $s in
        memcpy|memset|memmove|memcmp|__aeabi_*|__gnu_*) ;;
        *) echo "$defined" | grep -qx "$s" || { echo "FAIL: needs $s"; exit 1; } ;;
    esac
done
echo "cross build: $(arm-none-eabi-size -t "$lib" | tail -1 | awk '{print $1 + $2}') bytes of core for Cortex-M4 (libhvcomm.a)"
