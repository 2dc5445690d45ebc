#!/usr/bin/env python3
"""Replay a lackey memory trace of bench/ring/lines.c through a model of two
private caches (sides A and B) over the region's memory and print cache-line
transfers per round trip (see lines.c). Reads the program's first stdout line
(addresses) from argv[1] and the trace from stdin."""
import sys

words = open(sys.argv[1]).read().split()
base, size = int(words[1], 16), int(words[2])
markers = [int(w, 16) for w in words[4:8]]
rounds = int(sys.argv[2])
LINE = 64
valid = {}        # line -> set of sides holding a valid copy
side, counting = 0, False
xfer = [0, 0]     # per side: accesses that had to fetch a line the other side wrote
inval = [0, 0]    # per side: stores that invalidated the other side's copy
touched = [set(), set()]
for ln in sys.stdin:
    if len(ln) < 3 or ln[0] == 'I' or ln[0] == '=':
        continue
    kind = ln[1]
    try:
        addr = int(ln[3:].split(',')[0], 16)
    except ValueError:
        continue
    if kind in 'SM' and addr in markers:
        k = markers.index(addr)
        if k < 2:
            side = k
        else:
            counting = k == 2
        continue
    if not (base <= addr < base + size):
        continue
    line = addr // LINE
    holders = valid.setdefault(line, set())
    other = 1 - side
    miss = side not in holders and len(holders) > 0
    if kind == 'L':
        if counting and miss:
            xfer[side] += 1
        holders.add(side)
    else:  # S or M
        if counting:
            if miss:
                xfer[side] += 1
            elif other in holders:
                inval[side] += 1
        valid[line] = {side}
    if counting:
        touched[side].add(line)
tot = xfer[0] + xfer[1]
print("line fetches per round trip: A %.2f  B %.2f  total %.2f;  invalidations per round trip: %.2f;"
      "  lines touched by A %d, B %d" % (xfer[0] / rounds, xfer[1] / rounds, tot / rounds,
                                         (inval[0] + inval[1]) / rounds, len(touched[0]), len(touched[1])))
