#!/usr/bin/env bash
# Build hvcomm and run the demo: two guest processes on a shared region, then
# `hvcomm info` on the region they leave behind. Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
need_pkgs cmake make gcc libc6-dev pkg-config xz-utils ca-certificates libyaml-dev
./scripts/fetch-lwip.sh || echo "(no lwIP: the demo runs without its vnet step)"

cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=Release -DHVC_BUILD_TESTS=OFF -DHVC_BUILD_BENCH=OFF >/dev/null
cmake --build build/demo -j"$(nproc)" >/dev/null
region=${HVC_DEMO_REGION:-/dev/shm/hvcomm-demo}
# The demo's whole system is one file: check it and show the layout it makes.
echo "\$ build/demo/tools/hvcomm check examples/systems/demo.yaml"
build/demo/tools/hvcomm check examples/systems/demo.yaml
echo
build/demo/examples/hvcomm-demo --system examples/systems/demo.yaml --region "$region" "$@"
echo
echo "\$ build/demo/tools/hvcomm info $region"
build/demo/tools/hvcomm info "$region"
