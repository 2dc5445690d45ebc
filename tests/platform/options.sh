#!/bin/sh
# test_options: the full library's `hvcomm create --config` makes the
# region, then the program built with every small-target option attaches it.
# Usage: options.sh HVCOMM_TOOL TEST_OPTIONS SYSTEM_FILE
set -eu
region=/dev/shm/hvct-options-$$
trap 'rm -f "$region"' EXIT
"$1" create "$region" --config "$3" >/dev/null
"$2" "$region"
