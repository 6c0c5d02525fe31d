#!/usr/bin/python3
"""match_gen.py: a small reference catalog, a deep-source catalog and the
ref-match table between them (Qserv's RefObject / RunDeepSource /
RefDeepSrcMatch), as tab-separated files for match_e2e.sh.

  match_gen.py OUT_DIR [--refs N] [--seed S] [--sep DEG]

OUT_DIR/RefObject.tsv     refObjectId ra decl mag
OUT_DIR/DeepSource.tsv    deepSourceId ra decl flux
OUT_DIR/RefMatch.tsv      refObjectId deepSourceId angSep ra1 dec1 ra2 dec2
                          (\\N for the side of an unmatched row)

Objects are spread over ra 0..20, decl -10..10 and each reference object
gets 0-2 deep sources within --sep degrees, so that many pairs straddle
chunk and stripe boundaries; some deep sources match nothing, and a few
match rows have only one side (a NULL reference or a NULL source), as
Qserv's match tables have."""
import math, os, random, sys


def ang_sep(ra1, d1, ra2, d2):
    r = math.radians
    s = (math.sin(r(d2 - d1) / 2) ** 2 +
         math.cos(r(d1)) * math.cos(r(d2)) * math.sin(r(ra2 - ra1) / 2) ** 2)
    return math.degrees(2 * math.asin(min(1.0, math.sqrt(s))))


def main():
    out = sys.argv[1]
    args = dict(zip(sys.argv[2::2], sys.argv[3::2]))
    nref = int(args.get("--refs", 2000))
    rng = random.Random(int(args.get("--seed", 7)))
    sep = float(args.get("--sep", 0.08))
    os.makedirs(out, exist_ok=True)
    refs, srcs, matches = [], [], []
    sid = 5000000
    for i in range(nref):
        ra, dec = rng.uniform(0.05, 19.95), rng.uniform(-9.95, 9.95)
        refs.append((1000 + i, ra, dec, round(rng.uniform(14, 24), 4)))
        for _ in range(rng.choice((0, 1, 1, 2))):
            # a source within sep of the reference, in a random direction
            d, a = rng.uniform(0, sep * 0.9), rng.uniform(0, 2 * math.pi)
            sra = ra + d * math.cos(a) / math.cos(math.radians(dec))
            sdec = dec + d * math.sin(a)
            sid += 1
            srcs.append((sid, sra, sdec, round(rng.uniform(1, 1000), 3)))
            matches.append((1000 + i, sid, ang_sep(ra, dec, sra, sdec), ra, dec, sra, sdec))
    for _ in range(nref // 4):   # unmatched deep sources
        sid += 1
        srcs.append((sid, rng.uniform(0.05, 19.95), rng.uniform(-9.95, 9.95), round(rng.uniform(1, 1000), 3)))
    # one-sided match rows: a source without a reference, a reference without a source
    for s in srcs[-10:]:
        matches.append((None, s[0], None, None, None, s[1], s[2]))
    for r in refs[:10]:
        matches.append((r[0], None, None, r[1], r[2], None, None))

    def fmt(v):
        if v is None:
            return "\\N"
        return repr(v) if isinstance(v, float) else str(v)

    for name, rows in (("RefObject", refs), ("DeepSource", srcs), ("RefMatch", matches)):
        with open(os.path.join(out, name + ".tsv"), "w") as f:
            for row in rows:
                f.write("\t".join(fmt(v) for v in row) + "\n")


main()
