#!/bin/sh
# match_e2e.sh: queries on a match table (plan_match.c) through the czar
# of a 1-worker dev cluster, compared with one MariaDB holding the
# unpartitioned tables.
#
# The controller of this tree does not register match tables yet, so the
# test makes one itself, as the partitioner and the contract
# (qserv/controller/META.md) lay it out: a sample catalog is ingested; on
# the worker's MariaDB a reference database `ref` gets the unpartitioned
# Object and Source (their chunk tables' union) and RefMatch (every pair of
# objects closer than 0.015 deg, plus rows matched on one side only); each
# match row goes to RefMatch_<chunk> of the chunk of each side (flags 1, 2,
# or one row with 3); qservMeta.tables gets the match columns and the row
# (self-match: both directors Object, ang_sep 0.015 <= overlap 0.01667).
# Checks: the match table alone (COUNT(*), aggregates with a filter, GROUP
# BY), joined with one side, with both sides (JOIN ... ON and the
# comma/WHERE form), with both sides and a child of the second (the first
# then read with its overlap) all equal the reference; an outer join is
# refused (1235).
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
. "$REPO/tools/tap.sh"
. "$REPO/tools/dc-test.sh"
dc_init match
tap_plan 13

DB=mt
dc_catalog $DB 1 --objects 8000 --sources-per-object 1 --ra 1,3 --dec -2,0
W=$QSERV_WORKER_1_SOCKET
w() { my "$W" -e "$1"; }
CH=$(meta "SELECT DISTINCT chunk FROM qservMeta.chunks WHERE db='$DB' ORDER BY chunk")
union() { # TABLE COLUMNS: the union of its chunk tables
	_s=
	for _c in $CH; do _s="$_s${_s:+ UNION ALL }SELECT $2 FROM $DB.$1_$_c"; done
	echo "$_s"
}
w "CREATE DATABASE ref;
CREATE TABLE ref.Object (INDEX (decl)) AS $(union Object 'objectId, ra, decl, chunkId');
CREATE TABLE ref.Source AS $(union Source 'sourceId, objectId');
CREATE TABLE ref.M (id1 BIGINT NULL, id2 BIGINT NULL, dist DOUBLE NULL, c1 INT NULL, c2 INT NULL);
INSERT INTO ref.M SELECT a.objectId id1, b.objectId id2, scisql_angSep(a.ra, a.decl, b.ra, b.decl) dist,
	a.chunkId c1, b.chunkId c2 FROM ref.Object a JOIN ref.Object b ON b.decl BETWEEN a.decl - 0.015 AND a.decl + 0.015
	AND a.objectId < b.objectId WHERE scisql_angSep(a.ra, a.decl, b.ra, b.decl) < 0.015;
INSERT INTO ref.M SELECT objectId, NULL, NULL, chunkId, NULL FROM ref.Object WHERE objectId % 40 = 0;
INSERT INTO ref.M SELECT NULL, objectId, NULL, NULL, chunkId FROM ref.Object WHERE objectId % 40 = 1;
CREATE TABLE ref.RefMatch AS SELECT id1, id2, dist FROM ref.M" > "$T/ref.log"
ddl() { echo "CREATE TABLE $DB.$1 (id1 BIGINT NULL, id2 BIGINT NULL, dist DOUBLE NULL, flags INT NOT NULL,
	qserv_trans_id INT NOT NULL DEFAULT 0) ENGINE=MyISAM;"; }
s="$(ddl RefMatch) $(ddl RefMatch_1234567890)"
for c in $CH; do
	s="$s $(ddl RefMatch_$c) INSERT INTO $DB.RefMatch_$c (id1, id2, dist, flags) SELECT id1, id2, dist,
		(c1 <=> $c) + 2 * (c2 <=> $c) FROM ref.M WHERE c1 = $c OR c2 = $c;"
done
w "$s" >> "$T/ref.log"
# (the area straddles a chunk boundary in RA and a stripe boundary in Dec)
meta "ALTER TABLE qservMeta.tables ADD COLUMN IF NOT EXISTS is_match TINYINT NOT NULL DEFAULT 0,
	ADD COLUMN IF NOT EXISTS director_table2 VARCHAR(64) NOT NULL DEFAULT '',
	ADD COLUMN IF NOT EXISTS director_key2 VARCHAR(64) NOT NULL DEFAULT '',
	ADD COLUMN IF NOT EXISTS flag_key VARCHAR(64) NOT NULL DEFAULT '',
	ADD COLUMN IF NOT EXISTS ang_sep DOUBLE NOT NULL DEFAULT 0;
INSERT INTO qservMeta.tables (db, name, is_partitioned, is_director, director_table, director_key, latitude_key,
	longitude_key, chunk_id_key, sub_chunk_id_key, schema_json, published, is_match, director_table2,
	director_key2, flag_key, ang_sep) VALUES ('$DB', 'RefMatch', 1, 0, 'Object', 'id1', '', '', '', '',
	'[{\"name\":\"id1\",\"type\":\"BIGINT\"},{\"name\":\"id2\",\"type\":\"BIGINT\"},{\"name\":\"dist\",\"type\":\"DOUBLE\"},{\"name\":\"flags\",\"type\":\"INT NOT NULL\"}]',
	1, 1, 'Object', 'id2', 'flags', 0.015)" >> "$T/ref.log"
stats=$(w "SELECT COUNT(*), SUM(c1 <> c2), (SELECT COUNT(*) FROM ref.Object) FROM ref.M" | tr '\t' ' ')
set -- $stats
if [ "${2:-0}" -gt 0 ] && [ "$(w "SELECT SUM(TABLE_ROWS) > 0 FROM information_schema.TABLES WHERE TABLE_SCHEMA='$DB' AND TABLE_NAME LIKE 'RefMatch\_%'")" = 1 ]; then
	tap_pass "match table made: $1 rows, $2 of them pairs across chunks, over $3 objects in $(echo $CH | wc -w) chunks"
else
	tap_fail "match table made" "$stats $(tail -n 5 "$T/ref.log")"
fi

# same CZAR_SQL REF_SQL NAME: the czar's rows (sorted) equal the reference's
same() {
	sql "USE $DB; $1" 2>&1 | sort > "$T/czar.out"
	w "USE ref; $2" | sort > "$T/ref.out"
	if [ -s "$T/ref.out" ] && cmp -s "$T/czar.out" "$T/ref.out"; then
		tap_pass "$3 ($(wc -l < "$T/ref.out") rows)"
	else
		tap_fail "$3" "czar: $(head -c 300 "$T/czar.out") | ref: $(head -c 300 "$T/ref.out")"
	fi
}
q="SELECT COUNT(*) FROM RefMatch"
i=0; until [ "$(sql "$q FROM $DB.RefMatch" 2>&1 | grep -c ERROR)" = 0 ] || [ $i -ge 20 ]; do sleep 0.5; i=$((i + 1)); done
same "$q" "$q" "COUNT(*) of the match table alone counts every match once"
q="SELECT COUNT(*), COUNT(id1), COUNT(id2), SUM(dist < 0.005) FROM RefMatch WHERE dist IS NULL OR dist > 0.001"
same "$q" "$q" "aggregates with a filter on the match table alone"
q="SELECT id2 IS NULL, id1 IS NULL, COUNT(*) FROM RefMatch GROUP BY 1, 2"
same "$q" "$q" "GROUP BY on the match table alone"
q="SELECT id1, id2 FROM RefMatch WHERE dist < 0.002"
same "$q" "$q" "rows of the match table alone, each once"
q="SELECT a.objectId, m.id2 FROM Object a JOIN RefMatch m ON a.objectId = m.id1"
same "$q" "$q" "joined with the first side only (chunk-local)"
q="SELECT COUNT(*) FROM RefMatch m, Object b WHERE m.id2 = b.objectId"
same "$q" "$q" "joined with the second side only (chunk-local)"
q="SELECT a.objectId, b.objectId, m.dist FROM Object a JOIN RefMatch m ON a.objectId = m.id1 JOIN Object b ON m.id2 = b.objectId"
same "$q" "$q" "joined with both directors: every pair once, none missing"
q="SELECT COUNT(*), SUM(b.objectId - a.objectId) FROM Object a, RefMatch m, Object b WHERE a.objectId = m.id1 AND b.objectId = m.id2"
same "$q" "$q" "both directors in the comma/WHERE form, aggregated"
q="SELECT a.objectId, s.sourceId FROM Object a, RefMatch m, Object b, Source s WHERE a.objectId = m.id1 AND b.objectId = m.id2 AND s.objectId = b.objectId"
same "$q" "$q" "both directors and a child of the second: the first read with its overlap"
got=$(sql "SELECT COUNT(*) FROM $DB.Object a LEFT JOIN $DB.RefMatch m ON a.objectId = m.id1")
case $got in *1235*) tap_pass "an outer join with the match table is refused (1235)" ;;
*) tap_fail "an outer join with the match table is refused (1235)" "$got" ;; esac
tap_ok "dev cluster down" "$DC" down --dir "$T/cluster"
tap_done
