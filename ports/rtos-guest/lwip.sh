#!/bin/sh
# Cross-build lwIP (the tree the host build uses, third_party/lwip, with our
# ports/lwip/lwipopts.h and arch/cc.h, NO_SYS=1) and hvcomm's vnet driver
# for a bare-metal guest, as one static library. The host's lwIP build
# (cmake/lwip.cmake) is not touched. Rebuilt only when missing or older
# than the options, the vnet sources or this script.
# Usage: lwip.sh SOURCE_DIR OUT.a CC CFLAGS...
set -eu
src=$1 lib=$2 cc=$3
shift 3
lwip=${HVC_LWIP_DIR:-$src/third_party/lwip}
[ -f "$lwip/src/core/tcp.c" ] || { echo "SKIP: no lwIP tree at $lwip (scripts/fetch-lwip.sh)"; exit 77; }
if [ -f "$lib" ] && [ -z "$(find "$src/ports/lwip" "$src/src/vnet" "$src/src/system/vnet.c" "$0" -newer "$lib" -type f | head -1)" ]; then
    exit 0
fi
objs=$(dirname "$lib")/lwip-objs
rm -rf "$objs"
mkdir -p "$objs"
inc="-I$src/include -I$src/ports/lwip -I$lwip/src/include"
n=0
for f in "$lwip"/src/core/*.c "$lwip"/src/core/ipv4/*.c "$lwip"/src/core/ipv6/*.c \
         "$lwip"/src/netif/ethernet.c "$lwip"/src/apps/lwiperf/lwiperf.c; do
    n=$((n + 1))
    # lwIP itself is built as the host build does: its warnings are not ours.
    "$cc" "$@" $inc -w -c "$f" -o "$objs/lwip$n-$(basename "$f" .c).o" &
    [ $((n % 2)) -eq 0 ] && wait
done
wait
for f in "$src"/src/vnet/driver.c "$src"/src/vnet/netif.c "$src"/src/vnet/link.c \
         "$src"/src/vnet/port.c "$src"/src/system/vnet.c; do
    "$cc" "$@" $inc -Wall -Wextra -Werror -c "$f" -o "$objs/vnet-$(basename "$f" .c).o"
done
rm -f "$lib"
"${cc%gcc}ar" rcs "$lib" "$objs"/*.o
