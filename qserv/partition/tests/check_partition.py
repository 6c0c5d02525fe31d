#!/usr/bin/env python3
"""check_partition.py: independent checker of qserv-partition output.

Re-derives, in Python and from Qserv's published algorithm (src/partition/
Chunker.cc: segments(), maxAlpha(), locate()), where every input row must
go, and compares with the chunk files:

  check_partition.py primary|child IN_FILE OUT_DIR S SS R DELIM LON_COL LAT_COL ID_COL
    [DIRECTOR_OUT_DIR FK_COL]

primary: every input row appears exactly once in the chunk_<id>.txt files,
with the chunkId/subChunkId appended that the reference locate() gives and
in the file of that chunk; the overlap files hold exactly the (row,
chunk, sub-chunk) triples whose R-expanded sub-chunk box contains the row.
child: every row is in its director's chunk/sub-chunk (looked up by
FK_COL in the director's output, whose id is its first column) and no overlap file exists.
Prints "ok" or the first differences, exits non-zero on mismatch.
"""
import math
import os
import re
import sys


def segments(lat_min, lat_max, width):
    lat = max(abs(lat_min), abs(lat_max))
    if lat > 90.0 - 1 / 3600.0:
        return 1
    if width >= 180.0:
        return 1
    if width < 1 / 3600.0:
        width = 1 / 3600.0
    lat = math.radians(lat)
    cw = math.cos(math.radians(width))
    sl, cl = math.sin(lat), math.cos(lat)
    x = cw - sl * sl
    u = cl * cl
    y = math.sqrt(abs(u * u - x * x))
    return int(math.floor(360.0 / abs(math.degrees(math.atan2(y, x)))))


def max_alpha(r, lat):
    if r == 0:
        return 0.0
    if abs(lat) + r > 90.0 - 1 / 3600.0:
        return 180.0
    r, lat = math.radians(r), math.radians(lat)
    y = math.sin(r)
    x = math.sqrt(abs(math.cos(lat - r) * math.cos(lat + r)))
    return math.degrees(abs(math.atan(y / x)))


class Layout:
    def __init__(self, S, SS, R):
        self.S, self.SS, self.R = S, SS, R
        self.nss = S * SS
        self.h = 180.0 / self.nss
        sh = 180.0 / S
        self.nc, self.nsc, self.scw, self.alpha = [], [], [], []
        for i in range(S):
            nc = segments(i * sh - 90, (i + 1) * sh - 90, sh)
            self.nc.append(nc)
            for j in range(SS):
                ss = i * SS + j
                lo, hi = ss * self.h - 90, (ss + 1) * self.h - 90
                n = segments(lo, hi, self.h) // nc
                self.nsc.append(n)
                self.scw.append(360.0 / (n * nc))
                self.alpha.append(max_alpha(R, max(abs(lo), abs(hi))))
        self.M = max(self.nsc)

    def ids(self, ss, sc):
        st = ss // self.SS
        ch = sc // self.nsc[ss]
        return st * 2 * self.S + ch, (ss - st * self.SS) * self.M + (sc - ch * self.nsc[ss])

    def locate(self, lon, lat):
        lon = lon % 360.0
        ss = min(int(math.floor((lat + 90) / self.h)), self.nss - 1)
        st = ss // self.SS
        n = self.nc[st] * self.nsc[ss]
        sc = min(int(math.floor(lon / self.scw[ss])), n - 1)
        return ss, sc

    def overlaps(self, lon, lat):
        """(chunk, sub) of every other sub-chunk whose expanded box holds p."""
        lon = lon % 360.0
        own = self.locate(lon, lat)
        out = set()
        for ss in (own[0] - 1, own[0], own[0] + 1):
            if ss < 0 or ss >= self.nss:
                continue
            lo, hi = ss * self.h - 90, (ss + 1) * self.h - 90
            if not (lo - self.R <= lat <= hi + self.R):
                continue
            st = ss // self.SS
            n = self.nc[st] * self.nsc[ss]
            w, a = self.scw[ss], self.alpha[ss]
            c = int(math.floor(lon / w))
            for sc in {(c + d) % n for d in (-2, -1, 0, 1, 2)}:
                if (ss, sc) == own:
                    continue
                b0, b1 = sc * w, min((sc + 1) * w, 360.0)
                d = lon
                if d < b0 - a:
                    d += 360
                if d > b1 + a:
                    d -= 360
                if b0 - a <= d <= b1 + a:
                    out.add(self.ids(ss, sc))
        return out


def read_rows(path, delim):
    with open(path, encoding="utf-8", newline="") as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                yield line.split(delim)


def chunk_files(out_dir, overlap):
    for name in os.listdir(out_dir):
        m = re.fullmatch(r"chunk_(\d+)(_overlap)?\.txt", name)
        if not m or bool(m.group(2)) != overlap:
            continue
        yield int(m.group(1)), os.path.join(out_dir, name)


def fail(msgs):
    for m in msgs[:10]:
        print("# mismatch:", m)
    print("# %d mismatches" % len(msgs))
    sys.exit(1)


def main():
    mode, in_file, out_dir = sys.argv[1:4]
    S, SS, R = int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
    delim = "\t" if sys.argv[7] in ("tab", "\\t") else sys.argv[7]
    lon_col, lat_col, id_col = int(sys.argv[8]), int(sys.argv[9]), int(sys.argv[10])
    lay = Layout(S, SS, R)
    rows = {}
    for f in read_rows(in_file, delim):
        rows[f[id_col]] = f
    bad = []
    seen = {}
    for cid, path in chunk_files(out_dir, False):
        for f in read_rows(path, delim):
            key = f[id_col]
            if f[-2] != str(cid):
                bad.append("%s: row %s has chunkId %s" % (path, key, f[-2]))
            if key in seen:
                bad.append("row %s twice" % key)
            seen[key] = (int(f[-2]), int(f[-1]))
            if key in rows and f[:-2] != rows[key]:
                bad.append("row %s altered" % key)
    if set(seen) != set(rows):
        bad.append("primary rows: %d of %d input rows, %d unknown" % (
            len(set(seen) & set(rows)), len(rows), len(set(seen) - set(rows))))
    if mode == "primary":
        for key, f in rows.items():
            lon, lat = float(f[lon_col]), float(f[lat_col])
            want = lay.ids(*lay.locate(lon, lat))
            if seen.get(key) != want:
                bad.append("row %s at (%s, %s): got %s want %s" % (key, f[lon_col], f[lat_col],
                                                                  seen.get(key), want))
        got_ov = set()
        for cid, path in chunk_files(out_dir, True):
            for f in read_rows(path, delim):
                t = (f[id_col], int(f[-2]), int(f[-1]))
                if t in got_ov:
                    bad.append("overlap row %s twice" % (t,))
                got_ov.add(t)
                if int(f[-2]) != cid:
                    bad.append("%s holds chunk %s" % (path, f[-2]))
        want_ov = set()
        for key, f in rows.items():
            for c, s in lay.overlaps(float(f[lon_col]), float(f[lat_col])):
                want_ov.add((key, c, s))
        for t in sorted(want_ov - got_ov)[:5]:
            bad.append("missing overlap %s" % (t,))
        for t in sorted(got_ov - want_ov)[:5]:
            bad.append("unexpected overlap %s" % (t,))
        if not want_ov and R > 0:
            bad.append("test data exercised no overlap")
        print("# rows %d, overlap rows %d" % (len(rows), len(got_ov)))
    else:
        director = {}
        for cid, path in chunk_files(sys.argv[11], False):
            for f in read_rows(path, delim):
                director[f[0]] = (int(f[-2]), int(f[-1]))
        fk = int(sys.argv[12])
        for key, f in rows.items():
            if seen.get(key) != director.get(f[fk]):
                bad.append("row %s not with its director %s" % (key, f[fk]))
        if list(chunk_files(out_dir, True)):
            bad.append("child table produced overlap files")
        print("# child rows %d" % len(rows))
    if bad:
        fail(bad)
    print("# ok")


if __name__ == "__main__":
    main()
