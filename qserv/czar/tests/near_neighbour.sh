#!/bin/sh
# near_neighbour.sh: near-neighbour self-joins, run per sub-chunk (the
# czar's plan_nn.c, the worker's query_nn.c), through the czar of a
# 1-worker dev cluster, compared with one MariaDB holding the unpartitioned
# Object table (the union of its chunk tables) and running the same
# self-join with scisql_angSep.
#
# Checks: COUNT(*) and a select list, with and without qserv_areaspec_box
# (Qserv restricts both instances; the reference does too), and the
# JOIN ... ON form, all equal the reference; the worker built sub-chunk
# tables (a Subchunks_* database appears while a slow query runs) and
# leaves no Subchunks_* database behind after the queries, nor after a
# query whose client is killed mid-way; a worker killed mid-query (its
# databases left behind) drops them when it starts again.
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
. "$REPO/tools/tap.sh"
. "$REPO/tools/dc-test.sh"
dc_init nn
tap_plan 13

DB=nn
dc_catalog $DB 1 --objects 6000 --sources-per-object 1 --ra 1,3 --dec -2,0
W=$QSERV_WORKER_1_SOCKET
w() { my "$W" -e "$1"; }
CH=$(meta "SELECT DISTINCT chunk FROM qservMeta.chunks WHERE db='$DB' ORDER BY chunk")
s=
for c in $CH; do s="$s${s:+ UNION ALL }SELECT objectId, ra, decl FROM $DB.Object_$c"; done
w "CREATE DATABASE ref; CREATE TABLE ref.Object (INDEX (decl)) AS $s" > "$T/ref.log"
subdbs() { w "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'Subchunks\\_%'"; }
some_subdbs() { [ "$(subdbs)" -gt 0 ]; }
no_subdbs() { [ "$(subdbs)" = 0 ]; }

# same CZAR_SQL REF_SQL NAME: the czar's rows (sorted) equal the reference's
same() {
	sql "USE $DB; $1" 2>&1 | sort > "$T/czar.out"
	w "USE ref; $2" | sort > "$T/ref.out"
	if [ -s "$T/ref.out" ] && cmp -s "$T/czar.out" "$T/ref.out"; then
		tap_pass "$3 ($(wc -l < "$T/ref.out") rows: $(head -c 40 "$T/ref.out" | head -n 1))"
	else
		tap_fail "$3" "czar: $(head -c 300 "$T/czar.out") | ref: $(head -c 300 "$T/ref.out")"
	fi
}
czar_ready() { i=0; until [ "$(sql "SELECT COUNT(*) FROM $DB.Object" | grep -c ERROR)" = 0 ] || [ $i -ge 40 ]; do sleep 0.5; i=$((i + 1)); done; }
czar_ready
NN="scisql_angSep(o1.ra, o1.decl, o2.ra, o2.decl) < 0.015"
BOX="qserv_areaspec_box(1.5, -1.6, 2.4, -0.4)"
RBOX="scisql_s2PtInBox(o1.ra, o1.decl, 1.5, -1.6, 2.4, -0.4) = 1 AND scisql_s2PtInBox(o2.ra, o2.decl, 1.5, -1.6, 2.4, -0.4) = 1"
q="SELECT COUNT(*) FROM Object o1, Object o2 WHERE $NN"
same "$q" "$q" "COUNT(*) of every pair closer than 0.015 deg (each ordered pair once, self-pairs included)"
q="SELECT o1.objectId, o2.objectId, ROUND(scisql_angSep(o1.ra, o1.decl, o2.ra, o2.decl), 9) FROM Object o1, Object o2 WHERE $NN AND o1.objectId <> o2.objectId"
same "$q" "$q" "select list of every pair, none missing, none twice"
q="SELECT COUNT(*) FROM Object o1, Object o2 WHERE $BOX AND $NN"
same "$q" "SELECT COUNT(*) FROM Object o1, Object o2 WHERE $RBOX AND $NN" "COUNT(*) with qserv_areaspec_box (only the sub-chunks the box meets)"
q="SELECT o1.objectId, o2.objectId FROM Object o1, Object o2 WHERE $BOX AND $NN AND o1.objectId < o2.objectId"
same "$q" "SELECT o1.objectId, o2.objectId FROM Object o1, Object o2 WHERE $RBOX AND $NN AND o1.objectId < o2.objectId" \
	"select list with qserv_areaspec_box"
q="SELECT o1.objectId, COUNT(*) FROM Object o1 JOIN Object o2 ON 0.01 > scisql_angSep(o2.ra, o2.decl, o1.ra, o1.decl) WHERE o1.objectId % 7 = 3 GROUP BY o1.objectId"
same "$q" "$q" "JOIN ... ON form, GROUP BY on the first instance"
q="SELECT COUNT(*) FROM Object o1, Object o2 WHERE qserv_areaspec_box(200, 50, 201, 51) AND $NN"
got=$(sql "USE $DB; $q")
[ "$got" = 0 ] && tap_pass "a box with no chunk: COUNT(*) 0 (the dummy chunk's sub-chunk)" ||
	tap_fail "a box with no chunk: COUNT(*) 0" "$got"
n=$(subdbs)
[ "$n" = 0 ] && tap_pass "no Subchunks_* database left on the worker after the queries" ||
	tap_fail "no Subchunks_* database left after the queries" "$n: $(w "SHOW DATABASES LIKE 'Subchunks%'")"

# A slow near-neighbour query: its sub-chunk tables appear, then its client
# is killed; the worker drops them all the same (when its statements end).
SLOW="SELECT o1.objectId, o2.objectId, SLEEP(0.002) FROM $DB.Object o1, $DB.Object o2 WHERE $NN"
sql "$SLOW" > /dev/null 2>&1 &
pid=$!
if wait_until 30 some_subdbs; then
	tap_pass "a running near-neighbour query has its sub-chunk tables built ($(w "SHOW DATABASES LIKE 'Subchunks%'" | head -n 1))"
else
	tap_fail "a running near-neighbour query has its sub-chunk tables built" "$(subdbs)"
fi
kill "$pid" 2> /dev/null
wait "$pid" 2> /dev/null
if wait_until 90 no_subdbs; then
	tap_pass "client killed mid-way: no Subchunks_* database left"
else
	tap_fail "client killed mid-way: no Subchunks_* database left" "$(w "SHOW DATABASES LIKE 'Subchunks%'")"
fi

# The worker (and its MariaDB) killed mid-query: its Subchunks_* databases
# stay behind, their MEMORY tables empty, until it starts again and drops
# them (else a later query would skip the existing, empty tables).
sql "$SLOW" > /dev/null 2>&1 &
pid=$!
wait_until 30 some_subdbs
left=$(subdbs)
"$DC" kill worker-1 --dir "$T/cluster" > "$T/kill.log" 2>&1   # (its MariaDB too)
kill "$pid" 2> /dev/null
wait "$pid" 2> /dev/null
"$DC" start worker-1 --dir "$T/cluster" > "$T/start.log" 2>&1
if [ "${left:-0}" -gt 0 ] &&
   wait_until 60 no_subdbs; then
	tap_pass "worker killed mid-query: its $left Subchunks_* database(s) dropped when it starts again"
else
	tap_fail "worker killed mid-query: Subchunks_* dropped when it starts again" "left $left, now $(subdbs); $(tail -n 3 "$T/start.log")"
fi
czar_ready
q="SELECT COUNT(*) FROM Object o1, Object o2 WHERE $NN"
same "$q" "$q" "after the kills, the same COUNT(*) again"
tap_ok "dev cluster down" "$DC" down --dir "$T/cluster"
tap_done
