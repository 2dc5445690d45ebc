#!/usr/bin/env bash
# Build hvcomm and pass every test. Installs what it needs on Debian.
#  1. gcc build, warnings as errors, and the Doxygen reference (warnings as errors)
#  2. clang build with AddressSanitizer + UndefinedBehaviorSanitizer: every
#     test that runs the library in-process (the hostile-peer tests above all)
#  3. ThreadSanitizer over two peers as two threads (build/tsan)
#  4. every libFuzzer target of tests/fuzz for a few seconds (build/fuzz)
#  5. the gcc build's full test run: every area, the installed-package test,
#     the freestanding Cortex-M4 build of the core, vnet over lwIP (fetched from
#     Debian's source package) and the ivshmem scenarios in real QEMU VMs
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
need_pkgs cmake make gcc clang libclang-rt-14-dev llvm-14 libc6-dev pkg-config check doxygen \
    gcc-arm-none-eabi libnewlib-arm-none-eabi spin libck-dev binutils \
    gcc-riscv64-unknown-elf gcc-aarch64-linux-gnu picolibc-riscv64-unknown-elf \
    picolibc-arm-none-eabi picolibc-aarch64-linux-gnu qemu-system-misc qemu-system-arm \
    qemu-system-x86 cpio gzip xz-utils ca-certificates \
    iputils-ping iperf iproute2 ethtool
need_pkgs libyaml-dev # system files: the hvcomm_config loader (doc/config.md)
need_pkgs libdpdk-dev # bench/ring: the rte_ring baseline column (doc/ring.md)
./scripts/fetch-lwip.sh

jobs=$(nproc)
step() { printf '\n==== %s\n' "$*"; }

step "gcc build (warnings are errors)"
cmake -S . -B build/gcc -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=gcc -DHVC_WERROR=ON >/dev/null
cmake --build build/gcc -j"$jobs"

step "API reference (Doxygen, warnings are errors)"
cmake --build build/gcc --target doc

step "clang build with AddressSanitizer and UBSan"
cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
    -DHVC_SANITIZE=address,undefined -DHVC_BUILD_BENCH=OFF -DHVC_WERROR=ON >/dev/null
cmake --build build/asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
    ctest --test-dir build/asan --output-on-failure -LE 'package|baremetal|qemu' \
    -E '^test_event_model$' # spin's model checker: no hvcomm code in it

step "ThreadSanitizer: two peers as two threads (tests/threads)"
cmake -S . -B build/tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
    -DHVC_SANITIZE=thread -DHVC_BUILD_BENCH=OFF -DHVC_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build/tsan -j"$jobs" --target test_threads
ctest --test-dir build/tsan --output-on-failure -R '^test_threads$'

step "libFuzzer targets, a few seconds each (clang; longer: scripts/fuzz.sh)"
cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
    -DHVC_FUZZ=ON -DHVC_SANITIZE=fuzzer-no-link,address,undefined -DHVC_FUZZ_SECONDS=4 \
    -DHVC_BUILD_BENCH=OFF -DHVC_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build/fuzz -j"$jobs" --target fuzz_all
ctest --test-dir build/fuzz --output-on-failure -L '^fuzz$'

step "all tests (gcc build), QEMU virtual machines included"
HVC_QEMU_TESTS=1 ctest --test-dir build/gcc --output-on-failure
