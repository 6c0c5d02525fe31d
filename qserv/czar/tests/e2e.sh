#!/bin/sh
# e2e.sh: the czar end to end on a 2-worker dev cluster with a generated
# full-sky catalog (qserv-gen -> qserv-partition -> qservctl ingest).  Every
# query's answer through qserv-czar is compared (sorted) with the same query
# on one reference MariaDB holding the unpartitioned tables: point lookups,
# director-index IN/BETWEEN, restrictor boxes and circles (across RA 0/360
# and at the poles), ellipses and polygons, aggregates with GROUP BY/HAVING,
# ORDER BY + LIMIT, DISTINCT, director-child joins, regular-table joins,
# near-neighbour self-joins through the overlap tables (a restrictor
# limits both instances, as in Qserv),
# empty results; refusals; pymysql and mysql2 on distributed queries;
# SHOW SESSIONS progress and KILL of a running distributed query.
top=$(cd "$(dirname "$0")/../../.." && pwd)
. "$top/tools/tap.sh"
. "$top/tools/compare-queries.sh"
BIN=${QSERV_BIN:-$top/build/bin}
T=$(mktemp -d /tmp/czar-e2e.XXXXXX)
cleanup() {
	"$top/tools/dev-cluster" down --dir "$T/cluster" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

tap_plan 77
for b in qserv-gen qserv-partition qserv-worker qserv-controller qservctl qserv-czar qserv-certs; do
	[ -x "$BIN/$b" ] || { echo "Bail out! $BIN/$b is not built"; exit 1; }
done
[ -f "$top/build/lib/qserv_scisql.so" ] || { echo "Bail out! build/lib/qserv_scisql.so is not built"; exit 1; }

"$top/tools/sample-catalog.sh" "$T" e2e --stripes 18 --sub-stripes 4 || exit 1

if ! "$top/tools/dev-cluster" up --workers 2 --dir "$T/cluster" > "$T/up.log" 2>&1; then
	tap_fail "dev cluster with the czar comes up" "$(cat "$T/up.log")"; exit 1
fi
set -a; . "$T/cluster/cluster.env"; set +a
tap_ok "dev cluster with the czar comes up" test -n "$QSERV_CZAR_PORT"
tap_ok "qservctl ingest loads the catalog" "$BIN/qservctl" --url "$QSERV_INGEST_URL" ingest -q -j 3 "$T/ds"

# The reference: the same rows, unpartitioned, in one MariaDB.
REF="mariadb --no-defaults -S $QSERV_CZAR_DB_SOCKET -uroot --local-infile=1"
cols() { /usr/bin/python3 -c 'import json,sys; print(", ".join("`%s` %s" % (c["name"], c["type"]) for c in json.load(open(sys.argv[1]))["schema"]))' "$1"; }
$REF -e "CREATE DATABASE ref;
	CREATE TABLE ref.Object ($(cols "$T/gen/Object.schema.json"));
	CREATE TABLE ref.Source ($(cols "$T/gen/Source.schema.json"));
	CREATE TABLE ref.Filter (id INT NOT NULL, name VARCHAR(32));
	LOAD DATA LOCAL INFILE '$T/gen/Object.tsv' INTO TABLE ref.Object;
	LOAD DATA LOCAL INFILE '$T/gen/Source.tsv' INTO TABLE ref.Source;
	LOAD DATA LOCAL INFILE '$T/Filter.tsv' INTO TABLE ref.Filter;"
tap_is "$($REF -N -e 'SELECT COUNT(*) FROM ref.Object')" "$(wc -l < "$T/gen/Object.tsv")" "reference MariaDB holds every row"

CZ="mariadb --no-defaults -h127.0.0.1 -P$QSERV_CZAR_PORT -u$QSERV_USER -p$QSERV_PASSWORD"
# Each line: name | czar SQL | reference SQL (empty: the same text)
compare_queries "$CZ -D e2e" "$REF -D ref" "$T" <<'QEOF'
point lookup objectId =|SELECT objectId, ra, decl, r_psFlux, i_psFlux FROM Object WHERE objectId = 42|
index IN with a missing id|SELECT objectId, ra FROM Object WHERE objectId IN (1, 7, 999, 2500, 99999)|
index BETWEEN|SELECT objectId, decl, nSources FROM Object WHERE objectId BETWEEN 100 AND 140|
child foreign key lookup|SELECT sourceId, objectId, psFlux, filterName FROM Source WHERE objectId = 17|
qualified names and aliases|SELECT Object.objectId AS id, e2e.Object.ra * 2 AS ra2, decl FROM e2e.Object WHERE Object.objectId < 9|SELECT Object.objectId AS id, ref.Object.ra * 2 AS ra2, decl FROM ref.Object WHERE Object.objectId < 9
unknown id: no row|SELECT objectId FROM Object WHERE objectId = 123456789|
unknown id: COUNT is 0|SELECT COUNT(*) FROM Object WHERE objectId = 123456789|
box|SELECT objectId, ra, decl FROM Object WHERE qserv_areaspec_box(10, -20, 40, 10)|SELECT objectId, ra, decl FROM Object WHERE scisql_s2PtInBox(ra, decl, 10, -20, 40, 10) = 1
box across RA 0/360|SELECT objectId FROM Object WHERE qserv_areaspec_box(350, -30, 15, 30)|SELECT objectId FROM Object WHERE scisql_s2PtInBox(ra, decl, 350, -30, 15, 30) = 1
box at the north pole|SELECT objectId, decl FROM Object WHERE qserv_areaspec_box(0, 75, 360, 90)|SELECT objectId, decl FROM Object WHERE scisql_s2PtInBox(ra, decl, 0, 75, 360, 90) = 1
box at the south pole, wrapping|SELECT objectId FROM Object WHERE qserv_areaspec_box(300, -90, 60, -70)|SELECT objectId FROM Object WHERE scisql_s2PtInBox(ra, decl, 300, -90, 60, -70) = 1
circle on the pole|SELECT objectId FROM Object WHERE qserv_areaspec_circle(123, 89, 12)|SELECT objectId FROM Object WHERE scisql_s2PtInCircle(ra, decl, 123, 89, 12) = 1
circle across RA 0|SELECT objectId, ra FROM Object WHERE qserv_areaspec_circle(359, 0, 10)|SELECT objectId, ra FROM Object WHERE scisql_s2PtInCircle(ra, decl, 359, 0, 10) = 1
ellipse|SELECT objectId FROM Object WHERE qserv_areaspec_ellipse(180, 0, 36000, 18000, 30)|SELECT objectId FROM Object WHERE scisql_s2PtInEllipse(ra, decl, 180, 0, 36000, 18000, 30) = 1
polygon|SELECT objectId FROM Object WHERE qserv_areaspec_poly(10, 10, 40, 10, 40, 40, 10, 40)|SELECT objectId FROM Object WHERE scisql_s2PtInCPoly(ra, decl, 10, 10, 40, 10, 40, 40, 10, 40) = 1
restrictor and filter|SELECT COUNT(*) FROM Object WHERE qserv_areaspec_box(0, -45, 180, 45) AND r_psFlux > 20000|SELECT COUNT(*) FROM Object WHERE scisql_s2PtInBox(ra, decl, 0, -45, 180, 45) = 1 AND r_psFlux > 20000
full COUNT(*)|SELECT COUNT(*) FROM Object|
aggregates|SELECT COUNT(*), SUM(nSources), MIN(decl), MAX(decl), ROUND(AVG(r_psFlux), 3), COUNT(i_psFlux) FROM Object|
AVG of an integer (DECIMAL result)|SELECT AVG(nSources), SUM(nSources) FROM Object|
GROUP BY|SELECT filterName, COUNT(*), ROUND(AVG(psFlux), 3), MIN(midPointTai) FROM Source GROUP BY filterName|
GROUP BY alias HAVING ORDER BY|SELECT nSources AS k, COUNT(*) AS n FROM Object GROUP BY k HAVING n > 100 ORDER BY n DESC|
GROUP BY an expression|SELECT FLOOR(decl / 30) AS band, COUNT(*), MAX(ra) FROM Object GROUP BY FLOOR(decl / 30)|
GROUP BY with NULL groups|SELECT r_extendedness, COUNT(*) FROM Object GROUP BY r_extendedness|
ORDER BY LIMIT|SELECT objectId, r_psFlux FROM Object WHERE r_psFlux IS NOT NULL ORDER BY r_psFlux DESC, objectId LIMIT 10|
ORDER BY hidden column LIMIT OFFSET|SELECT objectId FROM Object ORDER BY decl LIMIT 5 OFFSET 3|
LIMIT without ORDER BY (count only)|SELECT COUNT(*) FROM Object LIMIT 3|
DISTINCT|SELECT DISTINCT nSources FROM Object|
COUNT(DISTINCT) with other aggregates|SELECT COUNT(DISTINCT nSources), COUNT(*), SUM(nSources), COUNT(DISTINCT r_extendedness) FROM Object|
COUNT(DISTINCT) per group|SELECT filterName, COUNT(DISTINCT objectId), COUNT(*) FROM Source GROUP BY filterName|
COUNT(DISTINCT) over no rows|SELECT COUNT(DISTINCT nSources), COUNT(*), MAX(ra) FROM Object WHERE objectId = 123456789|
DISTINCT ORDER BY|SELECT DISTINCT filterName FROM Source ORDER BY filterName|
NULL values|SELECT objectId, i_psFlux, g_psFlux FROM Object WHERE i_psFlux IS NULL ORDER BY objectId LIMIT 20|
director-child join in a box|SELECT o.objectId, COUNT(*) FROM Object o JOIN Source s USING (objectId) WHERE qserv_areaspec_box(0, 0, 30, 30) GROUP BY o.objectId|SELECT o.objectId, COUNT(*) FROM Object o JOIN Source s USING (objectId) WHERE scisql_s2PtInBox(o.ra, o.decl, 0, 0, 30, 30) = 1 GROUP BY o.objectId
director-child join, comma form|SELECT COUNT(*) FROM Object o, Source s WHERE o.objectId = s.objectId AND s.psFlux > o.r_psFlux|
director-child LEFT JOIN|SELECT o.objectId, s.sourceId FROM Object o LEFT JOIN Source s ON s.objectId = o.objectId WHERE o.objectId BETWEEN 1 AND 30|
regular-table join|SELECT f.id, f.name, COUNT(*) FROM Source s JOIN Filter f ON f.name = s.filterName GROUP BY f.id, f.name|
regular table alone, SELECT *|SELECT * FROM Filter|
t.* of a regular table|SELECT f.*, s.sourceId FROM Source s, Filter f WHERE f.name = s.filterName AND s.objectId = 9|
star of a join with USING|SELECT * FROM Filter JOIN Filter f2 USING (id) WHERE id < 4|
scisql function in the select list|SELECT objectId, ROUND(scisql_angSep(ra, decl, 0, 0), 6) FROM Object WHERE objectId < 20|
expression operators|SELECT objectId, objectId DIV 7, objectId % 5, objectId & 3, objectId << 2, -objectId, CASE WHEN decl > 0 THEN 'N' ELSE 'S' END FROM Object WHERE objectId BETWEEN 50 AND 60|
near-neighbour pairs|SELECT o1.objectId, o2.objectId FROM Object o1, Object o2 WHERE scisql_angSep(o1.ra, o1.decl, o2.ra, o2.decl) < 0.0166 AND o1.objectId <> o2.objectId|
near-neighbour count, JOIN ON form, in a box|SELECT COUNT(*), MAX(scisql_angSep(a.ra, a.decl, b.ra, b.decl)) < 0.0166 FROM Object a JOIN Object b ON scisql_angSep(a.ra, a.decl, b.ra, b.decl) <= 0.0166 WHERE qserv_areaspec_box(0, -90, 180, 90)|SELECT COUNT(*), MAX(scisql_angSep(a.ra, a.decl, b.ra, b.decl)) < 0.0166 FROM Object a JOIN Object b ON scisql_angSep(a.ra, a.decl, b.ra, b.decl) <= 0.0166 WHERE scisql_s2PtInBox(a.ra, a.decl, 0, -90, 180, 90) = 1 AND scisql_s2PtInBox(b.ra, b.decl, 0, -90, 180, 90) = 1
IN and LIKE on a child|SELECT COUNT(*) FROM Source WHERE filterName IN ('u', 'g') AND filterName LIKE '_'|
QEOF

refused() { # name sql pattern
	out=$($CZ -D e2e -e "$2" 2>&1)
	case "$out" in *"ERROR 1235 (42000)"*"$3"*) tap_pass "refused: $1" ;; *) tap_fail "refused: $1" "$out" ;; esac
}
refused "near-neighbour distance beyond the overlap" "SELECT COUNT(*) FROM Object o1, Object o2 WHERE scisql_angSep(o1.ra, o1.decl, o2.ra, o2.decl) < 0.5" "larger than the overlap"
refused "non-local join" "SELECT COUNT(*) FROM Object o, Source s WHERE o.ra = s.ra" "director key"
refused "STD over partitioned tables" "SELECT STD(ra) FROM Object" "STD"
refused "sub-query" "SELECT objectId FROM Object WHERE objectId IN (SELECT objectId FROM Source)" "sub-queries"
refused "DML" "DELETE FROM Object" "DELETE"
refused "restrictor in OR" "SELECT objectId FROM Object WHERE decl > 80 OR qserv_areaspec_box(0, 0, 1, 1)" "AND term"

# Deep but legal statements answer (parsed, planned, printed and merged in a
# session thread); deeper ones are refused and the czar lives on.
rep() { /usr/bin/python3 -c 'import sys; print(sys.argv[1] * int(sys.argv[2]), end="")' "$1" "$2"; }
deep="SELECT COUNT(*) FROM Object WHERE $(rep '(' 190)objectId > 100$(rep ')' 190)"
tap_is "$($CZ -D e2e -N -e "$deep" 2>&1)" "$($REF -D ref -N -e "$deep" 2>&1)" "190 nested parentheses"
chain="SELECT COUNT(*) FROM Object WHERE objectId = 0$(/usr/bin/python3 -c 'print("".join(" OR objectId = %d" % (7 * i) for i in range(1, 3000)), end="")')"
tap_is "$($CZ -D e2e -N -e "$chain" 2>&1)" "$($REF -D ref -N -e "$chain" 2>&1)" "an OR chain of 3000 terms"
refused "20001 chained operators" "SELECT 1$(rep ' + 1' 20001)" "20000 chained operators"
refused "5000 nested BINARY" "SELECT $(rep 'BINARY ' 5000)1" "nested deeper than 200"
refused "5000 nested function calls" "SELECT $(rep 'ABS(' 5000)1$(rep ')' 5000)" "nested deeper than 200"
tap_is "$($CZ -N -e 'SELECT 1' 2>&1)" 1 "the czar still answers"
out=$($CZ -D e2e -e "SELECT nope FROM Object WHERE objectId = 1" 2>&1)
case "$out" in *"ERROR 1054 (42S22)"*"nope"*) tap_pass "worker SQL error reaches the client with its code" ;;
	*) tap_fail "worker SQL error reaches the client with its code" "$out" ;; esac

tap_is "$($CZ -N -e 'SHOW DATABASES' | grep -c '^e2e$')" 1 "SHOW DATABASES lists the Qserv database"
tap_is "$($CZ -D e2e -B -e 'SELECT * FROM Object WHERE objectId = 42' | head -1)" \
	"$(/usr/bin/python3 -c 'import json,sys; print("\t".join([c["name"] for c in json.load(open(sys.argv[1]))["schema"]] + ["chunkId", "subChunkId"]))' "$T/gen/Object.schema.json")" \
	"SELECT * shows the registered columns (no qserv_trans_id)"
tap_is "$($CZ -D e2e -N -e 'DESCRIBE Object' | head -1 | cut -f1,2)" "objectId	bigint(20)" "DESCRIBE shows the published schema"

out=$(/usr/bin/python3 - <<'PYEOF' 2>&1
import os, pymysql
c = pymysql.connect(host="127.0.0.1", port=int(os.environ["QSERV_CZAR_PORT"]), user=os.environ["QSERV_USER"],
                    password=os.environ["QSERV_PASSWORD"], database="e2e")
cur = c.cursor()
cur.execute("SELECT objectId, i_psFlux FROM Object WHERE i_psFlux IS NULL ORDER BY objectId LIMIT 3")
rows = cur.fetchall()
assert len(rows) == 3 and all(r[1] is None for r in rows) and isinstance(rows[0][0], int), rows
cur.execute("SELECT COUNT(*) FROM Source")
assert cur.fetchone()[0] > 0
print("pymysql ok")
PYEOF
)
tap_is "$out" "pymysql ok" "pymysql reads distributed results with NULLs"
if [ -d "$top/build/npm/node_modules/mysql2" ]; then
	out=$(NODE_PATH="$top/build/npm/node_modules" node - <<'JSEOF' 2>&1
const mysql = require('mysql2/promise');
(async () => {
  const e = process.env;
  const c = await mysql.createConnection({host: '127.0.0.1', port: +e.QSERV_CZAR_PORT, user: e.QSERV_USER,
                                          password: e.QSERV_PASSWORD, database: 'e2e'});
  const [rows] = await c.query('SELECT filterName, COUNT(*) AS n FROM Source GROUP BY filterName');
  const [one] = await c.query('SELECT objectId, i_psFlux FROM Object WHERE i_psFlux IS NULL LIMIT 1');
  await c.end();
  console.log(rows.length > 1 && one[0].i_psFlux === null ? 'mysql2 ok' : 'mysql2 bad');
})().catch(err => console.log('mysql2 error ' + err));
JSEOF
)
	tap_is "$out" "mysql2 ok" "mysql2 reads distributed results with NULLs"
else
	tap_skip "mysql2 reads distributed results with NULLs" "npm mysql2 not installed (make deps)"
fi

# SHOW SESSIONS progress and KILL of a long distributed query.
$CZ -D e2e -N -e "SELECT COUNT(*) FROM Object WHERE SLEEP(0.05) = 0" > "$T/long.out" 2>&1 &
LONG=$!
id= st=
for _ in $(seq 100); do
	line=$($CZ -N -B -e 'SHOW SESSIONS' | grep 'SLEEP(0.05)' | head -1)
	id=$(echo "$line" | cut -f1); st=$(echo "$line" | cut -f7)
	case "$st" in *chunks*) break ;; esac
	sleep 0.1
done
case "$st" in "qserv query "*": chunks "*/*) tap_pass "SHOW SESSIONS shows Qserv query id and chunk progress" ;;
	*) tap_fail "SHOW SESSIONS shows Qserv query id and chunk progress" "state '$st'" ;; esac
qid=$(echo "$st" | sed -n 's/^qserv query \([0-9]*\):.*/\1/p')
tap_ok "/metrics shows the running query's chunks" sh -c "curl -sf '$QSERV_CZAR_METRICS_URL' | grep -q '^qserv_czar_query_chunks_total{qid=\"$qid\"'"
$CZ -e "KILL QUERY $id" > /dev/null 2>&1
wait $LONG
if grep -q "ERROR 1317" "$T/long.out"; then tap_pass "KILL QUERY interrupts the distributed query"
else tap_fail "KILL QUERY interrupts the distributed query" "id '$id': $(cat "$T/long.out")"; fi
tap_is "$($CZ -D e2e -N -e 'SELECT COUNT(*) FROM Object')" "$(wc -l < "$T/gen/Object.tsv")" "the czar answers after the kill"
# A one-chunk query runs on the session's thread (dispatch.c run_inline): KILL reaches it too.
oid1=$(head -1 "$T/gen/Object.tsv" | cut -f1)
$CZ -D e2e -N -e "SELECT objectId, SLEEP(5) FROM Object WHERE objectId = $oid1" > "$T/long1.out" 2>&1 &
LONG=$!
id=
for _ in $(seq 100); do
	line=$($CZ -N -B -e 'SHOW SESSIONS' | grep 'SLEEP(5)' | grep chunks | head -1)
	id=$(echo "$line" | cut -f1)
	[ -n "$id" ] && break
	sleep 0.1
done
$CZ -e "KILL QUERY $id" > /dev/null 2>&1
wait $LONG
if grep -q "ERROR 1317" "$T/long1.out"; then tap_pass "KILL QUERY interrupts a one-chunk query (point lookup)"
else tap_fail "KILL QUERY interrupts a one-chunk query (point lookup)" "id '$id': $(cat "$T/long1.out")"; fi
# A client that hangs up mid-query cancels its chunk queries on the workers.
$CZ -D e2e -N -e "SELECT COUNT(*) FROM Object WHERE SLEEP(0.051) = 0" > /dev/null 2>&1 &
CL=$!
for _ in $(seq 100); do
	$CZ -N -B -e 'SHOW SESSIONS' | grep 'SLEEP(0.051)' | grep -q chunks && break
	sleep 0.1
done
kill -9 $CL; wait $CL 2>/dev/null
on_workers() {
	n=0
	for w in 1 2; do
		eval sock=\$QSERV_WORKER_${w}_SOCKET
		k=$(mariadb --no-defaults -S "$sock" -uroot -N -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE '%SLEEP(0.051)%' AND INFO NOT LIKE '%PROCESSLIST%'")
		n=$((n + k))
	done
	echo $n
}
gone=
for _ in $(seq 100); do
	[ "$(on_workers)" = 0 ] && ! $CZ -N -B -e 'SHOW SESSIONS' | grep -q 'SLEEP(0.051)' && { gone=1; break; }
	sleep 0.1
done
tap_ok "a client hanging up cancels the query and its chunk queries on the workers" test -n "$gone"

# A client that stops reading a big streamed result: KILL QUERY from
# another session still ends it (rows are written outside the query's
# lock), the connection whose result was cut is closed, and no chunk
# query is left on the workers.
/usr/bin/python3 - "$QSERV_CZAR_PORT" "$QSERV_USER" "$QSERV_PASSWORD" <<'PYEOF' &
import socket, struct, sys, time, pymysql
c = pymysql.connect(host="127.0.0.1", port=int(sys.argv[1]), user=sys.argv[2], password=sys.argv[3], database="e2e")
c._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
q = b"SELECT s.*, f.name, REPEAT('x', 500) AS pad, 'stall-e2e' FROM Source s, Filter f"
c._sock.sendall(struct.pack("<I", len(q) + 1)[:3] + b"\0" + b"\x03" + q)
time.sleep(120)
PYEOF
ST=$!
id=
for _ in $(seq 100); do
	id=$($CZ -N -B -e 'SHOW FULL SESSIONS' | awk -F'\t' 'index($8, "stall-e2e") && $5 == "Query" { print $1; exit }')
	[ -n "$id" ] && break
	sleep 0.1
done
sleep 1   # let the stream fill the client's socket
out=$(timeout 30 $CZ -e "KILL QUERY $id" 2>&1; echo "rc=$?")
stalled_gone=
for _ in $(seq 200); do
	$CZ -N -B -e 'SHOW FULL SESSIONS' | grep -q 'stall-e2e' || { stalled_gone=1; break; }
	sleep 0.1
done
n=0
for w in 1 2; do
	eval sock=\$QSERV_WORKER_${w}_SOCKET
	k=$(mariadb --no-defaults -S "$sock" -uroot -N -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE '%stall-e2e%' AND INFO NOT LIKE '%PROCESSLIST%'")
	n=$((n + k))
done
kill $ST 2>/dev/null; wait $ST 2>/dev/null
if [ -n "$id" ] && [ "$out" = "rc=0" ] && [ -n "$stalled_gone" ] && [ "$n" = 0 ]; then
	tap_pass "KILL QUERY of a distributed query whose client stopped reading ends it"
else
	tap_fail "KILL QUERY of a distributed query whose client stopped reading ends it" "id '$id' $out gone '$stalled_gone' on workers $n"
fi

# A worker that dies: at the default replica level (2 copies with 2
# workers) the query answers right from the other replicas (without one it
# fails naming the worker: failover.sh); once back, queries work again
# (the czar replaces its dead pooled connections).
wpid=$(awk '$1 == "worker-2" { print $2 }' "$T/cluster/pids")
kill "$wpid"
for _ in $(seq 100); do kill -0 "$wpid" 2>/dev/null || break; sleep 0.1; done
out=$($CZ -D e2e -N -e "SELECT COUNT(*) FROM Object" 2>&1)
tap_is "$out" "$($REF -N -e 'SELECT COUNT(*) FROM ref.Object')" "a dead worker: the query answers right from the replicas"
QSERV_QUERY_PORT=$QSERV_WORKER_2_QUERY_PORT QSERV_TLS_DIR=$T/cluster/pki "$BIN/qserv-worker" \
	--socket "$QSERV_WORKER_2_SOCKET" --port "$QSERV_WORKER_2_INGEST_PORT" --bind 127.0.0.1 --id worker-2 \
	--staging "$T/cluster/worker-2/staging" --auth-key-file "$T/cluster/admin.key" \
	--file-root "${QSERV_FILE_ROOT:-/tmp}" --tls-dir "$T/cluster/pki" --tls-name worker-2 \
	>> "$T/cluster/worker-2/worker.log" 2>&1 &
sed -i "s/^worker-2 .*/worker-2 $!/" "$T/cluster/pids"
for _ in $(seq 100); do curl -sf --cacert "$T/cluster/pki/ca.pem" \
	--connect-to "worker-2:$QSERV_WORKER_2_INGEST_PORT:127.0.0.1:$QSERV_WORKER_2_INGEST_PORT" \
	"https://worker-2:$QSERV_WORKER_2_INGEST_PORT/status" > /dev/null && break; sleep 0.1; done
# and its query port (opened after the HTTPS API), bounded
/usr/bin/python3 -c '
import socket, sys, time
for i in range(200):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close(); break
    except OSError:
        time.sleep(0.1)' "$QSERV_WORKER_2_QUERY_PORT"
out=$($CZ -D e2e -N -e 'SELECT COUNT(*) FROM Object' 2>&1)
if [ "$out" = "$(wc -l < "$T/gen/Object.tsv")" ]; then tap_pass "after the worker restarts the same query succeeds"
else tap_fail "after the worker restarts the same query succeeds" "$out / worker-2: $(tail -5 "$T/cluster/worker-2/worker.log")"; fi

# A second czar on the same cluster with a tiny merge limit: a clear error.
P2=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN/qserv-czar" --bind 127.0.0.1 --port "$P2" --users "$T/cluster/czar/users" --mariadb-socket "$QSERV_CZAR_DB_SOCKET" \
	--tls-dir "$T/cluster/pki" --max-result-rows 100 > "$T/czar2.log" 2>&1 &
Z2=$!
for _ in $(seq 100); do
	mariadb --no-defaults -h127.0.0.1 -P"$P2" -u"$QSERV_USER" -p"$QSERV_PASSWORD" -e 'SELECT 1' > /dev/null 2>&1 && break
	sleep 0.1
done
out=$(mariadb --no-defaults -h127.0.0.1 -P"$P2" -u"$QSERV_USER" -p"$QSERV_PASSWORD" -D e2e -N \
	-e 'SELECT objectId FROM Object ORDER BY objectId' 2>&1)
case "$out" in *"ERROR 1104"*"MERGE_ERROR 1470 (QI="*"is too large at"*"max allowed size is 100 rows)"*) tap_pass "a merge beyond --max-result-rows fails clearly" ;;
	*) tap_fail "a merge beyond --max-result-rows fails clearly" "$(echo "$out" | tail -2)" ;; esac
out=$(mariadb --no-defaults -h127.0.0.1 -P"$P2" -u"$QSERV_USER" -p"$QSERV_PASSWORD" -D e2e -N \
	-e 'SELECT objectId FROM Object WHERE objectId IN (3, 1, 2) ORDER BY objectId' 2>&1)
tap_is "$(echo $out)" "1 2 3" "and a merge within it works"
kill $Z2; wait $Z2 2>/dev/null

left=$($REF -N -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'qservResult'")
tap_is "$left" 0 "no result table is left behind"
tap_done
