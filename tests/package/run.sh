#!/bin/sh
# Install the library into a scratch prefix, then build a user's program
# against the installed copy both ways: find_package() and pkg-config.
# When the build has vnet (lwIP), also a vnet program (vnet.h, vnet_port.h,
# bridge.h) against the installed vnet libraries and lwIP, both ways.
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
vnet=OFF
if [ -f "$build/src/vnet/libhvcomm_vnet.a" ]; then
    vnet=ON
    for f in include/hvcomm/vnet.h include/hvcomm/vnet_port.h include/hvcomm/bridge.h \
             include/hvcomm-lwip/lwipopts.h include/hvcomm-lwip/arch/cc.h \
             include/hvcomm-lwip/lwip/netif.h; do
        [ -f "$prefix/$f" ] || { echo "FAIL: $f not installed"; exit 1; }
    done
    for f in libhvcomm_vnet.a libhvcomm_vnet_port.a libhvcomm_lwip.a \
             pkgconfig/hvcomm-vnet.pc pkgconfig/hvcomm-vnet-port.pc; do
        [ -f "$libdir/$f" ] || { echo "FAIL: $libdir/$f not installed"; exit 1; }
    done
fi

# Only the public API is exported, and the library has a soname.
bad=$(nm -D --defined-only "$libdir/libhvcomm.so" | awk '$2 ~ /[TDBR]/ && $3 !~ /^hvc_/ {print $3}')
[ -z "$bad" ] || { echo "FAIL: exported non-API symbols: $bad"; exit 1; }
soname=$(objdump -p "$libdir/libhvcomm.so" | awk '/SONAME/ {print $2}')
[ "$soname" = "libhvcomm.so.0" ] || { echo "FAIL: soname is '$soname'"; exit 1; }

# 1. CMake: find_package(hvcomm) + hvcomm::hvcomm / hvcomm::hvcomm_static.
cmake -S "$src/tests/package/consumer" -B "$work/cm" -DCMAKE_PREFIX_PATH="$prefix" \
      -DWANT_VNET=$vnet >/dev/null
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

# 3. vnet: hvcomm::hvcomm_vnet (find_package COMPONENTS vnet) and hvcomm-vnet.pc.
if [ "$vnet" = ON ]; then
    "$work/cm/consumer_vnet" "$region"
    cc -std=c11 -Wall -Werror $(pkg-config --cflags hvcomm-vnet) \
       "$src/tests/package/consumer/vnet_main.c" -o "$work/pcvnet" $(pkg-config --libs hvcomm-vnet)
    LD_LIBRARY_PATH=$libdir "$work/pcvnet" "$region"
    echo "package: installed vnet libraries and lwIP used through find_package and pkg-config"
fi
echo "package: installed library used through find_package and pkg-config"
