#!/bin/sh
# match_ingest.sh: Qserv's ref-match tables end to end on a 2-worker dev
# cluster: a reference catalog (RefObject), a deep-source catalog
# (DeepSource) and the match table between them (RefMatch, from
# match_gen.py) -> qserv-partition for the two directors and
# qserv-partition-matches for the match table -> a qserv-ingest dataset
# whose match table JSON carries Qserv's director_table2, director_key2,
# flag and ang_sep -> `qservctl ingest`.  Then every query's answer through
# the czar is compared (sorted) with the same query on one MariaDB holding
# the unpartitioned tables: the match table alone (COUNT(*), filters,
# GROUP BY: each match once although a match whose objects lie in two
# chunks is stored in both) and joined with its two directors (chunk-local,
# as Qserv plans it: every pair exactly once).
top=$(cd "$(dirname "$0")/../../.." && pwd)
. "$top/tools/tap.sh"
. "$top/tools/compare-queries.sh"
BIN=${QSERV_BIN:-$top/build/bin}
TD=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/czar-match-ingest.XXXXXX)
cleanup() {
	"$top/tools/dev-cluster" down --dir "$T/cluster" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

tap_plan 15
for b in qserv-partition qserv-partition-matches qserv-worker qserv-controller qservctl qserv-czar qserv-certs; do
	[ -x "$BIN/$b" ] || { echo "Bail out! $BIN/$b is not built"; exit 1; }
done
[ -f "$top/build/lib/qserv_scisql.so" ] || { echo "Bail out! build/lib/qserv_scisql.so is not built"; exit 1; }
command -v mariadbd > /dev/null || tap_skip_all "needs mariadbd"

# 2-degree stripes, an overlap of 0.2 degrees and matches up to 0.08
# degrees apart: many pairs straddle chunk and stripe boundaries.
S=90 SS=3 OV=0.2 SEP=0.08
/usr/bin/python3 "$TD/match_gen.py" "$T/gen" --refs 2000 --sep $SEP || exit 1
csv='"csv": {"delimiter": "\t", "null": "\\N", "escape": "\\", "no-quote": true}'
part() {   # part NAME FIELDS POS [EXTRA PART KEYS]: a sph-partition style config
	printf '{"part": {"num-stripes": %s, "num-sub-stripes": %s, "overlap": %s, %s "chunk": "chunkId", "sub-chunk": "subChunkId"},\n' \
		$S $SS $OV "$3"
	printf ' "in": {"csv": {"delimiter": "\\t", "null": "\\\\N", "escape": "\\\\", "no-quote": true, "field": [%s]}},\n' "$2"
	printf ' "out": {%s}}\n' "$csv"
}
part RefObject '"refObjectId", "ra", "decl", "mag"' '"pos": "ra,decl", "id": "refObjectId",' > "$T/RefObject.cfg"
part DeepSource '"deepSourceId", "ra", "decl", "flux"' '"pos": "ra,decl", "id": "deepSourceId",' > "$T/DeepSource.cfg"
part RefMatch '"refObjectId", "deepSourceId", "angSep", "ra1", "dec1", "ra2", "dec2"' \
	'"pos1": "ra1,dec1", "pos2": "ra2,dec2", "flags": "flags",' > "$T/RefMatch.cfg"
for t in RefObject DeepSource; do
	"$BIN/qserv-partition" --config-file="$T/$t.cfg" --in.path="$T/gen/$t.tsv" --out.dir="$T/part/$t" \
		> "$T/part-$t.log" 2>&1 || { echo "Bail out! qserv-partition $t: $(tail -3 "$T/part-$t.log")"; exit 1; }
done
"$BIN/qserv-partition-matches" --config-file="$T/RefMatch.cfg" --in.path="$T/gen/RefMatch.tsv" \
	--out.dir="$T/part/RefMatch" > "$T/part-RefMatch.log" 2>&1
tap_is "$?" 0 "qserv-partition-matches partitions the match table"
# every match row lands once per chunk of its two positions: at least the input's rows
nin=$(wc -l < "$T/gen/RefMatch.tsv")
nout=$(cat "$T"/part/RefMatch/chunk_*.txt | wc -l)
tap_ok "the match rows of two chunks are written twice ($nin rows in, $nout out)" test "$nout" -gt "$nin"

# the dataset: two directors, then the match table naming both
/usr/bin/python3 - "$T" $S $SS $OV $SEP <<'PYEOF'
import json, os, re, shutil, sys
T, S, SS, OV, SEP = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
out = os.path.join(T, "ds")
os.makedirs(out)
json.dump({"version": 12, "database": "mt", "num_stripes": S, "num_sub_stripes": SS, "overlap": OV,
           "auto_build_secondary_index": 1, "auth_key": ""}, open(os.path.join(out, "db.json"), "w"))
part = [{"name": "chunkId", "type": "INT NOT NULL"}, {"name": "subChunkId", "type": "INT NOT NULL"}]
tables = {
    "RefObject": {"director_table": "", "director_key": "refObjectId", "latitude_key": "decl",
                  "longitude_key": "ra", "schema": [
                      {"name": "refObjectId", "type": "BIGINT NOT NULL"}, {"name": "ra", "type": "DOUBLE NOT NULL"},
                      {"name": "decl", "type": "DOUBLE NOT NULL"}, {"name": "mag", "type": "DOUBLE"}] + part},
    "DeepSource": {"director_table": "", "director_key": "deepSourceId", "latitude_key": "decl",
                   "longitude_key": "ra", "schema": [
                       {"name": "deepSourceId", "type": "BIGINT NOT NULL"}, {"name": "ra", "type": "DOUBLE NOT NULL"},
                       {"name": "decl", "type": "DOUBLE NOT NULL"}, {"name": "flux", "type": "DOUBLE"}] + part},
    "RefMatch": {"director_table": "RefObject", "director_key": "refObjectId",
                 "director_table2": "DeepSource", "director_key2": "deepSourceId",
                 "flag": "flags", "ang_sep": SEP, "schema": [
                     {"name": "refObjectId", "type": "BIGINT"}, {"name": "deepSourceId", "type": "BIGINT"},
                     {"name": "angSep", "type": "DOUBLE"}, {"name": "ra1", "type": "DOUBLE"},
                     {"name": "dec1", "type": "DOUBLE"}, {"name": "ra2", "type": "DOUBLE"},
                     {"name": "dec2", "type": "DOUBLE"}] + part + [{"name": "flags", "type": "INT UNSIGNED NOT NULL"}]},
}
meta = []
for t, tj in tables.items():
    tj.update({"database": "mt", "table": t, "is_partitioned": 1})
    json.dump(tj, open(os.path.join(out, t + ".json"), "w"))
    dst = os.path.join(out, "chunks", t)
    shutil.copytree(os.path.join(T, "part", t), dst)
    chunks, overlaps = [], []
    for f in sorted(os.listdir(dst)):
        m = re.fullmatch(r"chunk_(\d+)(_overlap)?\.txt", f)
        if m:
            (overlaps if m.group(2) else chunks).append(int(m.group(1)))
    meta.append({"schema": t + ".json", "indexes": [],
                 "data": [{"directory": "chunks/" + t, "chunks": chunks, "overlaps": overlaps}]})
json.dump({"version": 12, "charset_name": "latin1", "database": "db.json", "tables": meta},
          open(os.path.join(out, "metadata.json"), "w"))
PYEOF

if ! "$top/tools/dev-cluster" up --workers 2 --dir "$T/cluster" > "$T/up.log" 2>&1; then
	tap_fail "dev cluster with the czar comes up" "$(cat "$T/up.log")"; exit 1
fi
set -a; . "$T/cluster/cluster.env"; set +a
tap_ok "qservctl ingest loads the directors and the match table" \
	"$BIN/qservctl" --url "$QSERV_INGEST_URL" ingest -q -j 2 "$T/ds"

REF="mariadb --no-defaults -S $QSERV_CZAR_DB_SOCKET -uroot --local-infile=1"
$REF -e "CREATE DATABASE ref;
	CREATE TABLE ref.RefObject (refObjectId BIGINT NOT NULL PRIMARY KEY, ra DOUBLE, decl DOUBLE, mag DOUBLE);
	CREATE TABLE ref.DeepSource (deepSourceId BIGINT NOT NULL PRIMARY KEY, ra DOUBLE, decl DOUBLE, flux DOUBLE);
	CREATE TABLE ref.RefMatch (refObjectId BIGINT, deepSourceId BIGINT, angSep DOUBLE,
		ra1 DOUBLE, dec1 DOUBLE, ra2 DOUBLE, dec2 DOUBLE);
	LOAD DATA LOCAL INFILE '$T/gen/RefObject.tsv' INTO TABLE ref.RefObject;
	LOAD DATA LOCAL INFILE '$T/gen/DeepSource.tsv' INTO TABLE ref.DeepSource;
	LOAD DATA LOCAL INFILE '$T/gen/RefMatch.tsv' INTO TABLE ref.RefMatch;"
tap_is "$($REF -N -e 'SELECT COUNT(*) FROM ref.RefMatch')" "$nin" "reference MariaDB holds every match row"

CZ="mariadb --no-defaults -h127.0.0.1 -P$QSERV_CZAR_PORT -u$QSERV_USER -p$QSERV_PASSWORD"
# Each line: name | czar SQL | reference SQL (empty: the same text)
compare_queries "$CZ -D mt" "$REF -D ref" "$T" <<'QEOF'
COUNT(*) of the match table: each match once|SELECT COUNT(*) FROM RefMatch|
a filter on the match table|SELECT refObjectId, deepSourceId FROM RefMatch WHERE angSep < 0.03|
GROUP BY on the match table|SELECT refObjectId, COUNT(*) FROM RefMatch GROUP BY refObjectId|
one-sided matches kept once|SELECT refObjectId, deepSourceId FROM RefMatch WHERE refObjectId IS NULL OR deepSourceId IS NULL|
the match table joined with both directors|SELECT r.refObjectId, s.deepSourceId, m.angSep, r.mag, s.flux FROM RefObject r JOIN RefMatch m ON r.refObjectId = m.refObjectId JOIN DeepSource s ON m.deepSourceId = s.deepSourceId|
the same join in the comma form|SELECT r.refObjectId, s.deepSourceId FROM RefObject r, RefMatch m, DeepSource s WHERE r.refObjectId = m.refObjectId AND s.deepSourceId = m.deepSourceId|
the join counted|SELECT COUNT(*) FROM RefObject r JOIN RefMatch m ON r.refObjectId = m.refObjectId JOIN DeepSource s ON m.deepSourceId = s.deepSourceId|
the join with a filter on both directors|SELECT r.refObjectId, s.deepSourceId FROM RefObject r JOIN RefMatch m ON r.refObjectId = m.refObjectId JOIN DeepSource s ON m.deepSourceId = s.deepSourceId WHERE r.mag < 18 AND s.flux > 500|
the join in a box|SELECT r.refObjectId, s.deepSourceId FROM RefObject r JOIN RefMatch m ON r.refObjectId = m.refObjectId JOIN DeepSource s ON m.deepSourceId = s.deepSourceId WHERE qserv_areaspec_box(4, -6, 11, 6)|SELECT r.refObjectId, s.deepSourceId FROM RefObject r JOIN RefMatch m ON r.refObjectId = m.refObjectId JOIN DeepSource s ON m.deepSourceId = s.deepSourceId WHERE scisql_s2PtInBox(r.ra, r.decl, 4, -6, 11, 6) = 1 AND scisql_s2PtInBox(s.ra, s.decl, 4, -6, 11, 6) = 1
a match looked up by the first director's key|SELECT refObjectId, deepSourceId FROM RefMatch WHERE refObjectId = 1008|
QEOF

# what Qserv cannot answer exactly stays refused with a clear error
out=$($CZ -D mt -N -B -e "SELECT m.refObjectId FROM RefMatch m JOIN RefMatch m2 ON m.deepSourceId = m2.deepSourceId" 2>&1)
case "$out" in *ERROR*) tap_pass "a self-join of the match table is refused: $(echo "$out" | grep ERROR | head -c 160)" ;;
	*) tap_fail "a self-join of the match table is refused" "$(echo "$out" | head -3)" ;; esac
tap_done
