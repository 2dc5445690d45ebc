#!/bin/sh
# Install the library into a scratch prefix, then build a user's program
# against the installed copy both ways: find_package() and pkg-config.
# Usage: run.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1 src=$2
work=$(mktemp -d /tmp/hvct-package.XXXXXX)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
region=/dev/shm/hvct-package-$$
[ -d /dev/shm ] || region=$work/region

cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(find "$prefix" -name 'libhvcomm.so' -printf '%h\n' | head -n1)
[ -n "$libdir" ] || { echo "FAIL: libhvcomm.so not installed"; exit 1; }
for f in include/hvcomm/hvcomm.h include/hvcomm/region.h; do
    [ -f "$prefix/$f" ] || { echo "FAIL: $f not installed"; exit 1; }
done

# Only the public API is exported, and the library has a soname.
bad=$(nm -D --defined-only "$libdir/libhvcomm.so" | awk '$2 ~ /[TDBR]/ && $3 !~ /^hvc_/ {print $3}')
[ -z "$bad" ] || { echo "FAIL: exported non-API symbols: $bad"; exit 1; }
soname=$(objdump -p "$libdir/libhvcomm.so" | awk '/SONAME/ {print $2}')
[ "$soname" = "libhvcomm.so.0" ] || { echo "FAIL: soname is '$soname'"; exit 1; }

# 1. CMake: find_package(hvcomm) + hvcomm::hvcomm / hvcomm::hvcomm_static.
cmake -S "$src/tests/package/consumer" -B "$work/cm" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cm" >/dev/null
LD_LIBRARY_PATH=$libdir "$work/cm/consumer_shared" "$region"
"$work/cm/consumer_static" "$region"
if ldd "$work/cm/consumer_shared" | grep -q "libhvcomm.so.0 => $libdir"; then :; else
    LD_LIBRARY_PATH=$libdir ldd "$work/cm/consumer_shared" | grep -q "libhvcomm.so.0 => $libdir" ||
        { echo "FAIL: consumer_shared does not use the installed library"; exit 1; }
fi

# 2. pkg-config.
export PKG_CONFIG_PATH=$libdir/pkgconfig
cc -std=c11 -Wall -Werror $(pkg-config --cflags hvcomm) "$src/tests/package/consumer/main.c" \
   -o "$work/pc" $(pkg-config --libs hvcomm)
LD_LIBRARY_PATH=$libdir "$work/pc" "$region"
echo "package: installed library used through find_package and pkg-config"
