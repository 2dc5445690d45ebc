#!/bin/sh
# The x86hv hypercall path under QEMU TCG: boot the tiny SVM hypervisor
# (svm_hv.c) with -cpu max, which has SVM; it runs a guest whose VMMCALLs
# it serves with the hypervisor-side library, beside a read-only guest
# under nested paging; it stops the first and both sides see it gone.
# isa-debug-exit gives
# (code << 1) | 1: 0x21 is pass, so 67.
# Usage: qemu_svm.sh IMAGE.bin
set -u
img=$1
qemu=qemu-system-x86_64
if ! command -v $qemu >/dev/null 2>&1; then
    echo "SKIP: $qemu not installed (Debian package qemu-system-x86)"
    exit 77
fi
out=$(mktemp /tmp/x86hv-svm.XXXXXX)
trap 'rm -f "$out"' EXIT
timeout 300 $qemu -accel tcg -cpu max -m 128M -nographic -no-reboot -monitor none \
    -serial "file:$out" -display none -device isa-debug-exit,iobase=0xf4,iosize=4 \
    -kernel "$img" </dev/null
rc=$?
cat "$out"
if [ $rc -eq 67 ]; then
    echo "PASS: SVM hypervisor served the VMMCALLs, saw the stopped guest gone and refused the read-only guest's store (NPF)"
    exit 0
fi
echo "FAIL: qemu exit status $rc (67 expected: isa-debug-exit code 0x21)"
exit 1
