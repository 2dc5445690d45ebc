#!/usr/bin/env bash
# Draw the benchmarks' tables as PNGs with gnuplot (Debian: gnuplot-nox).
#   HVC_BENCH_TSV=/tmp/ring.tsv build/gcc/bench/ring/hvcomm-bench-ring
#   HVC_BENCH_TSV=/tmp/events.tsv build/gcc/bench/events/hvcomm-bench-events
#   HVC_BENCH_TSV=/tmp/vnet.tsv build/gcc/bench/vnet/hvcomm-bench-vnet
#   bench/plot.sh TABLE.tsv... [-o DIR | DIR]   (output, default doc/img)
# Each file is recognised by the kinds of its rows (first column):
#   rtt, tput (hvcomm-bench-ring): ring-rtt.png (p50, p99, p99.9 of every
#     round-trip line, per size and transport) and ring-tput.png
#     (throughput medians per size and implementation);
#   ev (hvcomm-bench-events): events-rtt.png (p50, p99, p99.9 per case);
#   vstream, vrr (hvcomm-bench-vnet): vnet-stream.png (TCP stream MB/s per
#     line) and vnet-rr.png (64 B request/response p50 and p99).
# Every chart uses a log scale.
set -euo pipefail
out=doc/img
files=()
while [ $# -gt 0 ]; do
    case $1 in
        -o) out=${2:?-o needs a directory}; shift 2 ;;
        *) if [ -d "$1" ]; then out=$1; else files+=("$1"); fi; shift ;;
    esac
done
[ ${#files[@]} -gt 0 ] || { echo "usage: bench/plot.sh TABLE.tsv... [-o outdir]" >&2; exit 2; }
command -v gnuplot >/dev/null || {
    echo "plot.sh: gnuplot missing (apt-get install gnuplot-nox)" >&2; exit 1; }
mkdir -p "$out"
tmp=$(mktemp -d /tmp/hvc-plot.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

common='set terminal pngcairo size 1100,560 font ",9" noenhanced
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set grid ytics
set xtics rotate by -40 scale 0
set key top left'

# One histogram: output, title, y label, data file, columns (title per
# column after the label column).
chart() {
    local png=$1 title=$2 ylabel=$3 dat=$4; shift 4
    local plot="" col=2 t
    for t in "$@"; do
        if [ -z "$plot" ]; then plot="\"$dat\" using $col:xtic(1) title \"$t\""
        else plot="$plot, \"\" using $col title \"$t\""; fi
        col=$((col + 1))
    done
    # The log axis starts below the smallest bar, so that it shows.
    local ymin
    ymin=$(awk -v n=$# '{ for (i = NF - n + 1; i <= NF; i++)
        if ($i > 0 && (m == "" || $i < m)) m = $i } END { print (m == "" ? 1 : m / 2) }' "$dat")
    gnuplot <<GP
$common
set yrange [$ymin:*]
set output "$out/$png"
set title "$title"
set ylabel "$ylabel"
plot $plot
GP
    echo "plot.sh: wrote $out/$png"
}

for tsv in "${files[@]}"; do
    [ -r "$tsv" ] || { echo "plot.sh: cannot read $tsv" >&2; exit 1; }
    drew=0
    # One data row per line: "label" value columns; labels quoted.
    awk -F'\t' '!/^#/ && $1 == "rtt" { printf "\"%s B %s\" %s %s %s\n", $2, $3, $7, $8, $9 }' \
        "$tsv" > "$tmp/rtt.dat"
    awk -F'\t' '!/^#/ && $1 == "tput" {
        sz = $2 >= 1024 ? ($2 / 1024) " KiB" : $2 " B";
        printf "\"%s %s\" %s\n", sz, $3, $4 / 1e6 }' "$tsv" > "$tmp/tput.dat"
    awk -F'\t' '!/^#/ && $1 == "ev" { printf "\"%s\" %s %s %s\n", $2, $3, $4, $5 }' \
        "$tsv" > "$tmp/ev.dat"
    awk -F'\t' '!/^#/ && $1 == "vstream" { printf "\"%s\" %s\n", $2, $3 }' "$tsv" > "$tmp/vs.dat"
    awk -F'\t' '!/^#/ && $1 == "vrr" { printf "\"%s\" %s %s\n", $2, $3, $4 }' "$tsv" > "$tmp/vr.dat"
    if [ -s "$tmp/rtt.dat" ]; then
        chart ring-rtt.png "hvcomm-bench-ring: round-trip latency per transport (ns, log scale)" \
            "ns per round trip" "$tmp/rtt.dat" p50 p99 p99.9
        drew=1
    fi
    if [ -s "$tmp/tput.dat" ]; then
        chart ring-tput.png \
            "hvcomm-bench-ring: throughput per size (million messages/s, median, log scale)" \
            "M messages/s" "$tmp/tput.dat" median
        drew=1
    fi
    if [ -s "$tmp/ev.dat" ]; then
        chart events-rtt.png "hvcomm-bench-events: event ping-pong round trip (ns, log scale)" \
            "ns per round trip" "$tmp/ev.dat" p50 p99 p99.9
        drew=1
    fi
    if [ -s "$tmp/vs.dat" ]; then
        chart vnet-stream.png "hvcomm-bench-vnet: TCP stream (MB/s, median, log scale)" \
            "MB/s" "$tmp/vs.dat" median
        drew=1
    fi
    if [ -s "$tmp/vr.dat" ]; then
        chart vnet-rr.png "hvcomm-bench-vnet: 64 B request/response (us, log scale)" \
            "us per round trip" "$tmp/vr.dat" p50 p99
        drew=1
    fi
    [ $drew = 1 ] || { echo "plot.sh: $tsv has no rows this script knows" >&2; exit 1; }
done
