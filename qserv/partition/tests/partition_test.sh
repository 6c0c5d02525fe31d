#!/bin/sh
# partition_test.sh: qserv-partition end to end on qserv-gen catalogs.
# Round trip checked by an independent Python transcription of Qserv's
# Chunker (check_partition.py): every row in exactly one primary chunk file
# with the right ids, overlap rows exactly where the math says; child table
# placed with its director; CSV vs TSV; config precedence; LZ4; bad rows
# with file:line and --max-errors; out.num-nodes; bounded memory on a
# 54 MB input.
cd "$(dirname "$0")/../../.." || exit 1
. tools/tap.sh
BIN=build/bin
HERE=qserv/partition/tests
T=$(mktemp -d /tmp/qpart_test.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
tap_plan 22

$BIN/qserv-gen --objects 20000 --sources-per-object 2 --dec -90,90 --seed 7 --out-dir "$T/g" >/dev/null 2>&1
$BIN/qserv-gen --objects 20000 --sources-per-object 0 --dec -90,90 --seed 7 --format csv \
	--out-dir "$T/gc" >/dev/null 2>&1

# 1-2: director table round trip (full sky: poles and the RA 0/360 wrap)
$BIN/qserv-partition --config-file="$T/g/Object.json" --in.path="$T/g/Object.tsv" \
	--out.dir="$T/o" > "$T/o.json" 2> "$T/o.err"
tap_is "$?" 0 "partition Object exits 0"
tap_ok "Object: primary and overlap rows match the reference" \
	python3 $HERE/check_partition.py primary "$T/g/Object.tsv" "$T/o" 85 12 0.01667 tab 1 2 0

# 3-4: child table placed by its director's position, no overlap
$BIN/qserv-partition -c "$T/g/Source.json" -i "$T/g/Source.tsv" --out.dir="$T/s" > /dev/null 2>&1
tap_is "$?" 0 "partition Source exits 0"
tap_ok "Source rows are in their object's chunk and sub-chunk" \
	python3 $HERE/check_partition.py child "$T/g/Source.tsv" "$T/s" 85 12 0 tab 4 5 0 "$T/o" 1

# object index: a director run with --part.id writes chunk_object_index.txt;
# a child without coordinates is placed through it (--part.id-url)
$BIN/qserv-partition --config-file="$T/g/Object.json" --in.path="$T/g/Object.tsv" \
	--out.dir="$T/oi" --part.id=objectId >/dev/null 2>&1
tap_ok "director run with --part.id writes one index line per row, at its chunk" sh -c "
	[ \$(wc -l < '$T/oi/chunk_object_index.txt') -eq 20000 ] &&
	cat '$T'/o/chunk_*[0-9].txt | awk -F'\t' '{print \$1\"\t\"\$(NF-1)\"\t\"\$NF}' | sort > '$T/want.idx' &&
	sort '$T/oi/chunk_object_index.txt' | cmp -s - '$T/want.idx'"
python3 -c "
import json
c = json.load(open('$T/g/Source.json'))
del c['part']['pos']
c['part']['id'] = 'objectId'
c['part']['id-url'] = 'file://$T/oi/chunk_object_index.txt'
json.dump(c, open('$T/src_id.json', 'w'))"
$BIN/qserv-partition --config-file="$T/src_id.json" --in.path="$T/g/Source.tsv" --out.dir="$T/si" >/dev/null 2>&1
tap_ok "child placed by --part.id-url lands with its director, no overlap" \
	python3 $HERE/check_partition.py child "$T/g/Source.tsv" "$T/si" 85 12 0 tab 4 5 0 "$T/o" 1
head -3 "$T/g/Source.tsv" > "$T/orphan.tsv"
printf '999\t424242\t1\t1\t1\t1\t60000\tr\t1\t1\n' >> "$T/orphan.tsv"
$BIN/qserv-partition --config-file="$T/src_id.json" --in.path="$T/orphan.tsv" --out.dir="$T/so" \
	>/dev/null 2> "$T/so.err"
tap_ok "a child row whose id is not in the index is a bad row with its line" \
	grep -q "orphan.tsv:4: objectId=424242 is not in the object index" "$T/so.err"

# 5: CSV dialect gives the same placement as TSV
$BIN/qserv-partition --config-file="$T/gc/Object.json" --in.path="$T/gc/Object.csv" \
	--out.dir="$T/oc" > /dev/null 2>&1
ids() { cat "$1"/chunk_*.txt | awk -F"$2" '{print $1, $(NF-1), $NF}' | sort; }
tap_ok "CSV input places rows as TSV does" \
	sh -c "[ \"\$(cd '$T' && ls o)\" = \"\$(cd '$T' && ls oc)\" ] && \
	       [ \"\$(cat '$T'/o/chunk_*.txt | awk -F'\t' '{print \$1, \$(NF-1), \$NF}' | sort)\" = \
	         \"\$(cat '$T'/oc/chunk_*.txt | awk -F, '{print \$1, \$(NF-1), \$NF}' | sort)\" ]"

# 6: summary counts rows
tap_ok "summary reports 20000 rows and the overlap rows" \
	sh -c "grep -q '\"rows\": 20000, \"bad_rows\": 0, \"chunk_rows\": 20000' '$T/o.json' && \
	       [ \$(cat '$T'/o/chunk_*_overlap.txt | wc -l) -gt 0 ] && \
	       grep -q \"\\\"overlap_rows\\\": \$(cat '$T'/o/chunk_*_overlap.txt | wc -l),\" '$T/o.json'"

# 7: later config files override earlier ones, the command line overrides both
printf '{"part": {"num-stripes": 340, "num-sub-stripes": 3}}\n' > "$T/a.json"
printf '{"part": {"num-stripes": 18, "num-sub-stripes": 100, "overlap": 0}}\n' > "$T/b.json"
$BIN/qserv-partition --config-file="$T/g/Object.json" --config-file="$T/a.json" \
	--config-file="$T/b.json" --in.path="$T/g/Object.tsv" --out.dir="$T/p18" >/dev/null 2>&1
$BIN/qserv-partition --config-file="$T/g/Object.json" --config-file="$T/a.json" \
	--config-file="$T/b.json" --part.num-stripes=85 --part.num-sub-stripes 12 --part.overlap=0.01667 \
	--in.path="$T/g/Object.tsv" --out.dir="$T/p85" >/dev/null 2>&1
tap_ok "config precedence: file order, then command line" \
	sh -c "python3 $HERE/check_partition.py primary '$T/g/Object.tsv' '$T/p18' 18 100 0 tab 1 2 0 >/dev/null && \
	       python3 $HERE/check_partition.py primary '$T/g/Object.tsv' '$T/p85' 85 12 0.01667 tab 1 2 0 >/dev/null && \
	       [ -z \"\$(ls '$T/p18' | grep overlap)\" ]"

# repeated options accumulate: the field list given one name at a time
cut -f1-3 "$T/g/Object.tsv" > "$T/three.tsv"
$BIN/qserv-partition --in.path="$T/three.tsv" --out.dir="$T/r" --in.csv.field=objectId \
	--in.csv.field=ra --in.csv.field decl --part.pos=ra,decl --part.num-stripes=85 \
	--part.num-sub-stripes=12 --part.overlap=0.01667 --in.csv.null='\N' --in.csv.no-quote >/dev/null 2>&1
tap_ok "--in.csv.field repeated builds the field list (Boost-style)" \
	python3 $HERE/check_partition.py primary "$T/three.tsv" "$T/r" 85 12 0.01667 tab 1 2 0

# 8: LZ4 output decompresses to the same rows
$BIN/qserv-partition --config-file="$T/g/Object.json" --in.path="$T/g/Object.tsv" \
	--out.dir="$T/z" --out.lz4=true >/dev/null 2>&1
tap_ok "LZ4 chunk files hold the same rows" \
	sh -c "[ -n \"\$(ls '$T/z' | grep '\.txt\.lz4\$')\" ] && \
	       for f in '$T'/z/*.lz4; do lz4 -dcq \"\$f\"; done | sort > '$T/z.rows' && \
	       cat '$T'/o/*.txt | sort | cmp -s - '$T/z.rows'"

# 9-12: bad rows: file and line, --max-errors
cp "$T/g/Object.tsv" "$T/bad.tsv"
sed -i '3s/.*/3\tonly\ttwo/; 5s/^\([0-9]*\)\t[^\t]*\t[^\t]*/\1\t10\t95.5/; 7s/^\([0-9]*\)\t[^\t]*/\1\tabc/' "$T/bad.tsv"
$BIN/qserv-partition --config-file="$T/g/Object.json" --in.path="$T/bad.tsv" --out.dir="$T/b0" \
	>/dev/null 2> "$T/b0.err"
rc=$?
tap_ok "bad rows fail the run by default (status $rc)" [ "$rc" -eq 1 ]
tap_ok "the first bad row is reported with file and line" grep -q "bad.tsv:3: expected 11 fields, found 3" "$T/b0.err"
$BIN/qserv-partition --config-file="$T/g/Object.json" --in.path="$T/bad.tsv" --out.dir="$T/b3" \
	--max-errors=3 > "$T/b3.json" 2> "$T/b3.err"
tap_is "$?" 0 "--max-errors=3 tolerates three bad rows"
tap_ok "each bad row named with its line, the rest partitioned" \
	sh -c "grep -q 'bad.tsv:5: latitude decl=95.5 is outside' '$T/b3.err' && \
	       grep -q 'bad.tsv:7: longitude ra is not a finite number' '$T/b3.err' && \
	       [ \$(wc -l < '$T/b3.err') -eq 3 ] && [ \$(cat '$T'/b3/chunk_*[0-9].txt | wc -l) -eq 19997 ]"

# dry run (sph-partition's part.disable-chunks): checks rows, writes no chunk file
$BIN/qserv-partition --config-file="$T/g/Object.json" --in.path="$T/bad.tsv" --out.dir="$T/dry" \
	--part.disable-chunks --max-errors=5 > "$T/dry.json" 2> "$T/dry.err"
rc=$?
tap_ok "--part.disable-chunks reports the 3 bad rows and writes no chunk file" \
	sh -c "[ $rc -eq 0 ] && [ \$(wc -l < '$T/dry.err') -eq 3 ] && [ -z \"\$(ls '$T/dry')\" ] && \
	       grep -q '\"rows\": 20000, \"bad_rows\": 3' '$T/dry.json'"

# 13-14: configuration errors are clear and exit 2
$BIN/qserv-partition --in.path="$T/g/Object.tsv" --out.dir="$T/x" --in.csv.field=objectId,ra,decl \
	--part.pos=ra,dec 2> "$T/x.err"
tap_is "$?" 2 "unknown position column is a usage error"
$BIN/qserv-partition --config-file="$T/g/Object.json" --in.path="$T/g/Object.tsv" --out.dir="$T/x" \
	--part.overlap=0.5 2> "$T/y.err"
tap_ok "an overlap larger than a sub-stripe is refused (Qserv's check)" \
	grep -q "greater than the sub-stripe height" "$T/y.err"

# 15: out.num-nodes: node_NNNNN directories by Qserv's Mulvey hash of the chunk id
$BIN/qserv-partition --config-file="$T/g/Object.json" --in.path="$T/g/Object.tsv" --out.dir="$T/n" \
	--out.num-nodes=3 >/dev/null 2>&1
tap_ok "out.num-nodes=3 spreads chunk files over node_00000..2 by hash(chunkId) % 3" python3 -c "
import os, sys
def h(x):
    M = 0xffffffff
    x = (x + (x << 16)) & M; x ^= x >> 13; x = (x + (x << 4)) & M; x ^= x >> 7
    x = (x + (x << 10)) & M; x ^= x >> 5; x = (x + (x << 8)) & M; x ^= x >> 16
    return x
rows = 0
for n in range(3):
    d = '$T/n/node_%05d' % n
    for f in os.listdir(d):
        c = int(f.split('_')[1].split('.')[0])
        if h(c) % 3 != n: sys.exit('chunk %d in node %d' % (c, n))
        if not f.endswith('_overlap.txt'): rows += sum(1 for _ in open(os.path.join(d, f)))
sys.exit(0 if rows == 20000 and sorted(os.listdir('$T/n')) == ['node_00000', 'node_00001', 'node_00002'] else 'rows %d' % rows)
"

# 16-17: bounded memory: a 60 MB input partitions in well under its size
$BIN/qserv-gen --objects 600000 --out-dir "$T/big" --seed 3 >/dev/null 2>&1
/usr/bin/time -f '%M' -o "$T/rss" $BIN/qserv-partition --config-file="$T/big/Object.json" \
	--in.path="$T/big/Object.tsv" --out.dir="$T/bo" --mr.block-size=1 >/dev/null 2>&1
tap_is "$?" 0 "partition a $(($(stat -c %s "$T/big/Object.tsv") / 1000000)) MB file"
rss=$(cat "$T/rss")
tap_ok "peak memory ${rss} KiB stays under 48 MiB" [ "$rss" -lt 49152 ]
tap_done
