#!/bin/sh
# gen_test.sh: qserv-gen output is deterministic, sized as asked, has
# unique ids, sources referencing existing objects, coordinates in range,
# the requested footprint, a thinned galactic plane and clusters, and
# configs qserv-partition accepts.
cd "$(dirname "$0")/../../.." || exit 1
. tools/tap.sh
G=build/bin/qserv-gen
T=$(mktemp -d /tmp/qgen_test.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
tap_plan 12

$G --objects 5000 --sources-per-object 4 --seed 11 --out-dir "$T/a" >/dev/null 2>&1
tap_is "$?" 0 "generate 5000 objects"
$G --objects 5000 --sources-per-object 4 --seed 11 --out-dir "$T/b" >/dev/null 2>&1
tap_ok "same arguments, same bytes" sh -c "cmp -s '$T/a/Object.tsv' '$T/b/Object.tsv' && cmp -s '$T/a/Source.tsv' '$T/b/Source.tsv'"
$G --objects 5000 --sources-per-object 4 --seed 12 --out-dir "$T/c" >/dev/null 2>&1
tap_ok "another seed, another catalog" sh -c "! cmp -s '$T/a/Object.tsv' '$T/c/Object.tsv'"
tap_is "$(wc -l < "$T/a/Object.tsv")" 5000 "Object has the requested row count"
tap_is "$(cut -f1 "$T/a/Object.tsv" | sort -u | wc -l)" 5000 "objectId is unique"
tap_ok "Source: unique ids, every objectId exists, count near 4 per object" sh -c "
	[ \$(cut -f1 '$T/a/Source.tsv' | sort -u | wc -l) -eq \$(wc -l < '$T/a/Source.tsv') ] &&
	cut -f1 '$T/a/Object.tsv' | sort > '$T/ids' &&
	[ -z \"\$(cut -f2 '$T/a/Source.tsv' | sort -u | comm -23 - '$T/ids')\" ] &&
	n=\$(wc -l < '$T/a/Source.tsv') && [ \$n -gt 18000 ] && [ \$n -lt 22000 ]"
tap_ok "nSources of each object equals its Source rows" sh -c "
	awk -F'\t' '{print \$1, \$NF}' '$T/a/Object.tsv' | sort > '$T/n1' &&
	cut -f2 '$T/a/Source.tsv' | sort | uniq -c | awk '{print \$2, \$1}' > '$T/n2' &&
	awk '\$2 > 0' '$T/n1' | sort | cmp -s - \"\$(sort '$T/n2' > '$T/n3'; echo '$T/n3')\""
tap_ok "positions inside the default footprint (dec -65..5, ra 0..360)" sh -c "
	awk -F'\t' '\$2 < 0 || \$2 >= 360 || \$3 < -65 || \$3 > 5 {bad++} END {exit bad > 0}' '$T/a/Object.tsv'"
$G --objects 3000 --ra 350,10 --dec -5,5 --format csv --out-dir "$T/w" >/dev/null 2>&1
tap_ok "a box through RA 0 is honoured, CSV format" sh -c "
	awk -F, '!((\$2 >= 350 || \$2 <= 10) && \$3 >= -5 && \$3 <= 5) {bad++} END {exit bad > 0 || NR != 3000}' '$T/w/Object.csv' &&
	awk -F, '\$2 >= 350 {a++} \$2 <= 10 {b++} END {exit !(a > 500 && b > 500)}' '$T/w/Object.csv'"
tap_ok "generated partition config is accepted" sh -c "
	build/bin/qserv-partition --config-file='$T/a/Object.json' --in.path='$T/a/Object.tsv' --out.dir='$T/p' >/dev/null"
$G --objects 20000 --dec -90,90 --cluster-frac 0.2 --seed 4 --out-dir "$T/s" >/dev/null 2>&1
tap_ok "sky model: galactic plane thinned, 20% of objects in compact clusters" python3 -c "
import math
b_in, n, pts = 0, 0, []
for line in open('$T/s/Object.tsv'):
    f = line.split('\t'); ra, dec = math.radians(float(f[1])), math.radians(float(f[2]))
    rp, dp = math.radians(192.85948), math.radians(27.12825)
    b = math.degrees(math.asin(math.sin(dec) * math.sin(dp) + math.cos(dec) * math.cos(dp) * math.cos(ra - rp)))
    n += 1; b_in += abs(b) < 10
    pts.append((int(float(f[1]) // 1), int(float(f[2]) // 1)))
cells = {}
for p in pts: cells[p] = cells.get(p, 0) + 1
dense = sum(c for c in cells.values() if c >= 20)
# |b| < 10 is 17.4% of the sky; kept at 30% it holds about 6%; clusters
# (50 of them, 3' wide) put about 20% of the rows in a few 1-degree cells
assert 0.03 < b_in / n < 0.10, b_in / n
assert 0.12 < dense / n < 0.30, dense / n
"
$G --objects -1 --out-dir "$T/x" 2>/dev/null
tap_is "$?" 2 "a bad size is a usage error"
tap_done
