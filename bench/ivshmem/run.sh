#!/bin/sh
# Round trips over ivshmem, in one table with the host-only baselines:
# host<->host through the POSIX backend (polling) and through the ivshmem
# server (eventfd doorbells, polling), host<->guest and guest<->guest in
# real QEMU virtual machines (doorbells through VFIO MSI-X, polling).
#
#   bench/ivshmem/run.sh BUILD_DIR [ROUNDS]       (default 200)
#
# Needs what the ivshmem QEMU tests need (doc/ivshmem.md). A benchmark, not
# a test: it prints a table and never fails on a timing. Set
# HVC_QEMU_ACCEL=kvm where KVM can boot Linux.
set -eu
build=$(cd "${1:?usage: run.sh BUILD_DIR [ROUNDS]}" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
HVC_QEMU_TESTS=1 HVC_QEMU_ROUNDS=${2:-200} exec sh "$src/tests/ivshmem/qemu.sh" bench \
    --driver "$build/tests/ivshmem/ivs_qemu_driver" \
    --guest "$build/tests/ivshmem/ivs_guest_init" \
    --server "$build/tools/hvcomm-ivshmem-server" \
    --cache "$build/qemu-cache"
