#!/usr/bin/env python3
"""check_matches.py: independent reference for qserv-partition-matches.

  check_matches.py gen OUT_FILE N SEED S SS R [inplace]
      writes a TSV match table (matchId, refId, srcId, ra1, decl1, ra2, decl2
      [, chunkId, subChunkId, flags as NULL]) of N good rows, many straddling
      chunk boundaries (longitude edges, stripe edges, RA 0/360, the poles),
      some with one NULL position, then 2 bad rows: both positions NULL, and
      positions 2*R apart.
  check_matches.py check IN_FILE OUT_DIR S SS R STRIP
      re-derives every output row: a row goes to the chunk of each non-NULL
      position, flag 1 (position 1 there), 2 (position 2), 3 (both: one
      row, position 1's sub-chunk); rows with both positions NULL or
      positions R or more apart go nowhere.  The output must equal that
      multiset, chunk file by chunk file (STRIP: input columns the
      partitioner fills in place, 0 or 3; or keep=K: only the first K input
      columns are written).  No overlap file may exist.
Chunk math: check_partition.py's transcription of Qserv's Chunker.
Prints "# ok" or the first differences, exits non-zero on mismatch."""
import collections
import math
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_partition import Layout, chunk_files, read_rows, fail  # noqa: E402

EPS = 0.001 / 3600.0


def ang_sep(lon1, lat1, lon2, lat2):
    """Haversine separation in degrees."""
    l1, b1, l2, b2 = map(math.radians, (lon1, lat1, lon2, lat2))
    s = (math.sin((b2 - b1) / 2) ** 2 +
         math.cos(b1) * math.cos(b2) * math.sin((l2 - l1) / 2) ** 2)
    return math.degrees(2 * math.asin(min(1.0, math.sqrt(s))))


def near_pos(rng, lay, R):
    kind = rng.randrange(5)
    if kind == 0:       # anywhere
        return rng.uniform(0, 360), math.degrees(math.asin(rng.uniform(-1, 1)))
    if kind == 1:       # next to a chunk's longitude edge
        lat = rng.uniform(-85, 85)
        st = min(int((lat + 90) // (180.0 / lay.S)), lay.S - 1)
        w = 360.0 / lay.nc[st]
        k = rng.randrange(lay.nc[st])
        return (k * w + rng.uniform(-0.5, 0.5) * R) % 360.0, lat
    if kind == 2:       # next to a stripe edge
        k = rng.randrange(1, lay.S)
        return rng.uniform(0, 360), k * 180.0 / lay.S - 90 + rng.uniform(-0.5, 0.5) * R
    if kind == 3:       # RA 0/360
        return rng.uniform(-0.5, 0.5) * R % 360.0, rng.uniform(-60, 60)
    return rng.uniform(0, 360), rng.choice((1, -1)) * (90 - rng.uniform(0, R))  # poles


def partner(rng, lon, lat, R):
    while True:
        d, a = rng.uniform(0, 0.8 * R), rng.uniform(0, 2 * math.pi)
        lat2 = lat + d * math.sin(a)
        if abs(lat2) > 90:
            continue
        c = max(math.cos(math.radians(max(abs(lat), abs(lat2)))), 1e-3)
        lon2 = (lon + d * math.cos(a) / c) % 360.0
        if ang_sep(lon, lat, lon2, lat2) < 0.8 * R:
            return lon2, lat2


def gen(out, n, seed, S, SS, R, inplace):
    rng = random.Random(seed)
    lay = Layout(S, SS, R)
    tail = ["NULL"] * 3 if inplace else []
    with open(out, "w") as f:
        for i in range(n):
            lon, lat = near_pos(rng, lay, R)
            lon2, lat2 = partner(rng, lon, lat, R)
            p1 = ["%.12f" % lon, "%.12f" % lat]
            p2 = ["%.12f" % lon2, "%.12f" % lat2]
            if i % 17 == 5:
                p1 = ["NULL", "NULL"]
            elif i % 19 == 7:
                p2 = [p2[0], "NULL"]
            f.write("\t".join([str(i + 1), str(1000 + i), str(5000 + i)] + p1 + p2 + tail) + "\n")
        f.write("\t".join([str(n + 1), "1", "2", "NULL", "NULL", "NULL", "NULL"] + tail) + "\n")
        f.write("\t".join([str(n + 2), "1", "2", "10.0", "10.0", "10.0", "%.6f" % (10 + 2 * R)]
                          + tail) + "\n")


def expected(rows, lay, R, strip):
    want = collections.defaultdict(collections.Counter)
    bad = straddle = 0
    for f in rows:
        base = f[:strip[1]] if isinstance(strip, tuple) else f[:len(f) - strip]
        p1 = None if "NULL" in f[3:5] else (float(f[3]), float(f[4]))
        p2 = None if "NULL" in f[5:7] else (float(f[5]), float(f[6]))
        if p1 is None and p2 is None or (p1 and p2 and ang_sep(*p1, *p2) > R - EPS):
            bad += 1
            continue
        l1 = lay.ids(*lay.locate(*p1)) if p1 else None
        l2 = lay.ids(*lay.locate(*p2)) if p2 else None
        if l1 and l2 and l1[0] == l2[0]:
            want[l1[0]]["\t".join(base + [str(l1[0]), str(l1[1]), "3"])] += 1
            continue
        straddle += bool(l1 and l2)
        for loc, flag in ((l1, "1"), (l2, "2")):
            if loc:
                want[loc[0]]["\t".join(base + [str(loc[0]), str(loc[1]), flag])] += 1
    return want, bad, straddle


def check(in_file, out_dir, S, SS, R, strip):
    lay = Layout(S, SS, R)
    want, nbad, straddle = expected(list(read_rows(in_file, "\t")), lay, R, strip)
    got = collections.defaultdict(collections.Counter)
    for cid, path in chunk_files(out_dir, False):
        for f in read_rows(path, "\t"):
            got[cid]["\t".join(f)] += 1
    bad = []
    for cid in sorted(set(want) | set(got)):
        for row in sorted((want[cid] - got[cid]).elements())[:3]:
            bad.append("chunk %d: missing %s" % (cid, row))
        for row in sorted((got[cid] - want[cid]).elements())[:3]:
            bad.append("chunk %d: unexpected %s" % (cid, row))
    if list(chunk_files(out_dir, True)):
        bad.append("overlap files written for a match table")
    flags = collections.Counter(r.rsplit("\t", 1)[1] for c in want.values() for r in c.elements())
    if not (flags["1"] and flags["2"] and flags["3"] and straddle):
        bad.append("test data does not exercise every flag: %s" % dict(flags))
    print("# rows out %d in %d chunks, flags %s, straddling pairs %d, bad rows %d" % (
        sum(flags.values()), len(want), dict(sorted(flags.items())), straddle, nbad))
    if bad:
        fail(bad)
    print("# ok")


def main():
    a = sys.argv
    if a[1] == "gen":
        gen(a[2], int(a[3]), int(a[4]), int(a[5]), int(a[6]), float(a[7]),
            len(a) > 8 and a[8] == "inplace")
    else:
        strip = ("keep", int(a[7][5:])) if a[7].startswith("keep=") else int(a[7])
        check(a[2], a[3], int(a[4]), int(a[5]), float(a[6]), strip)


if __name__ == "__main__":
    main()
