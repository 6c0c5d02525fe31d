#!/bin/sh
# nn_bench.sh: a near-neighbour self-join through the czar, which runs it
# per sub-chunk (plan_nn.c; each sub-chunk read through the default index
# qserv_sub_chunk, plan_rewrite.c), against one MariaDB
# running the same self-join with scisql_angSep (issue 15).  BENCH_ROWS
# (200,000) Object rows of objectId, ra, decl in a 10 x 10 degree field
# (ra 15..25, dec -5..5), Qserv's layout (85 stripes, 12 sub-stripes,
# overlap 1 arcmin) on a 1-worker dev cluster; one MariaDB holds the
# same rows in a MyISAM table with indexes on objectId and decl.
# Measured (best of 2): the COUNT(*) of pairs closer than 1 arcmin in the
# 2-degree box ra 19..21, dec -1..1 (the box on both instances, as the czar
# applies a restrictor); printed: the ratio czar / one MariaDB and the
# chunk-to-sub-chunk row ratio (rows per chunk over rows per sub-chunk, in
# the field), by which a per-sub-chunk join should beat one MariaDB's.
# The answers are compared (a difference exits 1); no timing is asserted.
top=$(cd "$(dirname "$0")/../../.." && pwd)
BIN=${QSERV_BIN:-$top/build/bin}
N=${BENCH_ROWS:-200000}
T=$(mktemp -d /tmp/nn_bench.XXXXXX)
. "$top/tools/test-mariadb.sh"
cleanup() {
	"$top/tools/dev-cluster" down --dir "$T/cluster" >/dev/null 2>&1
	test_mariadb_stop "$T/one"
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
now() { date +%s.%N; }
calc() { echo "scale=4; $*" | bc; }
f2() { printf "%.2f" "$1"; }

awk -v n="$N" 'BEGIN { srand(15); for (i = 1; i <= n; i++) printf "%d\t%.8f\t%.8f\n", i, 15 + 10 * rand(), -5 + 10 * rand() }' \
	> "$T/Object.tsv"
cols="objectId BIGINT NOT NULL, ra DOUBLE NOT NULL, decl DOUBLE NOT NULL"
schema='{"name": "objectId", "type": "BIGINT NOT NULL"}, {"name": "ra", "type": "DOUBLE NOT NULL"}, {"name": "decl", "type": "DOUBLE NOT NULL"}'

test_mariadb_start "$T/one" --local-infile=1 --plugin-dir="${QSERV_LIB:-$top/build/lib}" ||
	{ echo "mariadbd does not start: $(tail -3 "$T/one/my.err")"; exit 1; }
my() { mariadb --no-defaults -S "$T/one/my.sock" -uroot --local-infile=1 -N -B "$@"; }
my -e "CREATE DATABASE nn; CREATE TABLE nn.Object ($cols, PRIMARY KEY (objectId), INDEX (decl)) ENGINE=MyISAM;
	LOAD DATA LOCAL INFILE '$T/Object.tsv' INTO TABLE nn.Object" || exit 1
my < "$top/qserv/scisql/install.sql" > "$T/scisql.out" 2>&1 || echo "scisql on one MariaDB: $(tail -1 "$T/scisql.out")"

cat > "$T/Object.cfg" <<EOF2
{"part": {"num-stripes": 85, "num-sub-stripes": 12, "overlap": 0.01667, "pos": "ra,decl", "id": "objectId",
          "chunk": "chunkId", "sub-chunk": "subChunkId"},
 "in": {"csv": {"delimiter": "\t", "null": "\\\\N", "escape": "\\\\", "no-quote": true, "field": ["objectId", "ra", "decl"]}},
 "out": {"csv": {"delimiter": "\t", "null": "\\\\N", "escape": "\\\\", "no-quote": true}}}
EOF2
"$top/tools/dev-cluster" up --workers 1 --dir "$T/cluster" > "$T/up.log" 2>&1 || { echo "dev cluster: $(tail -5 "$T/up.log")"; exit 1; }
set -a; . "$T/cluster/cluster.env"; set +a
"$BIN/qserv-partition" --config-file="$T/Object.cfg" --in.path="$T/Object.tsv" --out.dir="$T/ds/chunks/Object" \
	> "$T/part.log" 2>&1 || { echo "qserv-partition: $(tail -3 "$T/part.log")"; exit 1; }
/usr/bin/python3 "$top/tools/director-dataset.py" "$T/ds" nn Object 85 12 "[$schema]"
"$BIN/qservctl" --url "$QSERV_INGEST_URL" ingest -q -j 2 "$T/ds" > "$T/ingest.log" 2>&1 ||
	{ echo "qservctl ingest: $(tail -5 "$T/ingest.log")"; exit 1; }
CZ="mariadb --no-defaults -h127.0.0.1 -P$QSERV_CZAR_PORT -u$QSERV_USER -p$QSERV_PASSWORD -D nn -N -B"
i=0; until $CZ -e "SELECT COUNT(*) FROM Object" > /dev/null 2>&1 || [ $i -ge 20 ]; do sleep 0.5; i=$((i + 1)); done

best() { # SYS SQL: best of 2, the answer in $T/<sys>.out
	b=
	for _ in 1 2; do
		t0=$(now)
		if [ "$1" = czar ]; then $CZ -e "$2" > "$T/$1.out" 2>&1; else my -D nn -e "$2" > "$T/$1.out" 2>&1; fi
		t1=$(now)
		d=$(calc "$t1 - $t0")
		if [ -z "$b" ] || [ "$(echo "$d < $b" | bc)" = 1 ]; then b=$d; fi
	done
	echo "$b"
}
pair="scisql_angSep(o1.ra, o1.decl, o2.ra, o2.decl) < 0.0166 AND o1.objectId <> o2.objectId"
q_cz="SELECT COUNT(*) FROM Object o1, Object o2 WHERE qserv_areaspec_box(19, -1, 21, 1) AND $pair"
q_one="SELECT COUNT(*) FROM Object o1, Object o2 WHERE o1.ra BETWEEN 19 AND 21 AND o1.decl BETWEEN -1 AND 1 AND
	o2.ra BETWEEN 19 AND 21 AND o2.decl BETWEEN -1 AND 1 AND $pair"
t_one=$(best one "$q_one"); t_cz=$(best czar "$q_cz")
bad=0
if ! cmp -s "$T/one.out" "$T/czar.out"; then
	echo "ANSWER DIFFERS: czar $(head -c 200 "$T/czar.out") vs one MariaDB $(head -c 200 "$T/one.out")"
	bad=1
fi
# rows per chunk / rows per sub-chunk, over the chunks and sub-chunks of the field
$CZ -e "SELECT chunkId, subChunkId, COUNT(*) FROM Object GROUP BY chunkId, subChunkId" > "$T/sc.out" 2>&1
ratio=$(awk '{ rows += $3; sc++; ch[$1] = 1 } END { nc = 0; for (c in ch) nc++; if (nc && sc) printf "%.0f", (rows / nc) / (rows / sc); else print "?" }' "$T/sc.out")
echo "pairs closer than 1 arcmin in the 2-degree box: $(cat "$T/one.out"); one MariaDB $t_one s, czar $t_cz s"
echo "| measure | czar / one MariaDB | chunk-to-sub-chunk row ratio |"
echo "| --- | --- | --- |"
echo "| near-neighbour count, 2-degree box, $N rows (1 arcmin), per sub-chunk | $(f2 "$(calc "$t_cz / $t_one")")x | $ratio |"
exit $bad
