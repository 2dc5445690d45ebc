#!/usr/bin/env bash
# Draw hvcomm-bench-ring's table as PNGs with gnuplot (Debian: gnuplot-nox).
#   HVC_BENCH_TSV=/tmp/ring.tsv build/gcc/bench/ring/hvcomm-bench-ring
#   bench/plot.sh /tmp/ring.tsv [output dir, default doc/img]
# Writes ring-rtt.png (p50, p99, p99.9 of every round-trip line, per size
# and transport, log scale) and ring-tput.png (throughput medians per size
# and implementation, log scale; 64 KiB as messages per second too).
set -euo pipefail
tsv=${1:?usage: bench/plot.sh table.tsv [outdir]}
out=${2:-doc/img}
command -v gnuplot >/dev/null || {
    echo "plot.sh: gnuplot missing (apt-get install gnuplot-nox)" >&2; exit 1; }
mkdir -p "$out"
tmp=$(mktemp -d /tmp/hvc-plot.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# One data row per line: "label" value columns; labels with spaces quoted.
awk -F'\t' '!/^#/ && $1 == "rtt" { printf "\"%s B %s\" %s %s %s\n", $2, $3, $7, $8, $9 }' \
    "$tsv" > "$tmp/rtt.dat"
awk -F'\t' '!/^#/ && $1 == "tput" {
    sz = $2 >= 1024 ? ($2 / 1024) " KiB" : $2 " B";
    printf "\"%s %s\" %s\n", sz, $3, $4 / 1e6 }' "$tsv" > "$tmp/tput.dat"
gnuplot <<GP
set terminal pngcairo size 1100,560 font ",9" noenhanced
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set grid ytics
set xtics rotate by -40 scale 0
set key top left
set output "$out/ring-rtt.png"
set title "hvcomm-bench-ring: round-trip latency per transport (ns, log scale)"
set ylabel "ns per round trip"
plot "$tmp/rtt.dat" using 2:xtic(1) title "p50", "" using 3 title "p99", "" using 4 title "p99.9"
set output "$out/ring-tput.png"
set title "hvcomm-bench-ring: throughput per size (million messages/s, median, log scale)"
set ylabel "M messages/s"
plot "$tmp/tput.dat" using 2:xtic(1) title "median"
GP
echo "plot.sh: wrote $out/ring-rtt.png and $out/ring-tput.png"
