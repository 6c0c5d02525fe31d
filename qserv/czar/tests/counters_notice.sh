#!/bin/sh
# counters_notice.sh: the czar's COUNT(*) from Qserv's row counters
# (qservMeta.row_counters, rowcount.c) and its metadata notice
# (--meta-notify, notify.c) on a dev cluster of 1 worker.
#
# Checks: a published catalog's COUNT(*)s scan right without counters;
# deliberately wrong deployed counters on every chunk (1 per chunk) are what
# the czar answers (so it used them; no worker asked), named COUNT(*) or by
# the alias, a regular table's one counter too; a chunk without a counter,
# a counter not deployed, a STARTED transaction of the database, and SET
# GLOBAL QSERV_ROW_COUNTER_OPTIMIZATION = 0 each make it scan again (= 1
# turns it back on).  The notice: the socket is 0600; a chunk's row deleted
# from qservMeta.chunks then a `reload` datagram: the very next COUNT(*)
# misses exactly that chunk's rows; restored + datagram: all rows again.
# The director-index cache (index_cache.h): a repeated point lookup is a
# cache hit with the same row; after a `reload` datagram the next one asks
# the index again (a miss); the stage histograms count the lookups.
# The row_counters table is created here when the controller of this tree
# does not (its POST /ingest/table-stats is another piece of work).
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
. "$REPO/tools/tap.sh"
. "$REPO/tools/dc-test.sh"
dc_init counters
command -v python3 > /dev/null || tap_skip_all "needs python3"
tap_plan 14

DB=cnt
"$REPO/tools/sample-catalog.sh" "$T" $DB --objects 3000 --sources-per-object 2 --ra 0,40 --dec -20,20 \
	--stripes 12 --sub-stripes 4 || exit 1
SOCK=$T/notify.sock
export QSERV_CZAR_ARGS="--meta-notify $SOCK"
if dc_up 1; then
	tap_pass "dev cluster with 1 worker up, the czar with --meta-notify"
else
	tap_fail "dev cluster with 1 worker up" "$(tail -n 5 "$T/up.log")"
	exit 1
fi
if "$BIN/qservctl" ingest -q "$T/ds" > "$T/ingest.log" 2>&1; then
	tap_pass "catalog ingested and published"
else
	tap_fail "catalog ingested and published" "$(tail -n 5 "$T/ingest.log")"
	exit 1
fi
notice() {
	python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.sendto(b"reload", sys.argv[1])' "$SOCK"
}
NOBJ=$(wc -l < "$T/gen/Object.tsv")
NSRC=$(wc -l < "$T/gen/Source.tsv")
NCH=$(meta "SELECT COUNT(DISTINCT chunk) FROM qservMeta.chunks WHERE db='$DB'")
NFIL=$(sql "SELECT COUNT(*) FROM $DB.Filter")
tap_is "$(czar_is "SELECT COUNT(*) FROM $DB.Object" "$NOBJ")|$NFIL" "$NOBJ|6" \
	"without counters COUNT(*) scans: $NOBJ objects in $NCH chunks, 6 filters"

meta "CREATE TABLE IF NOT EXISTS qservMeta.row_counters (db VARCHAR(64) NOT NULL, tbl VARCHAR(64) NOT NULL,
	chunk INT NOT NULL, overlap TINYINT NOT NULL, num_rows BIGINT NOT NULL, deployed TINYINT NOT NULL,
	updated BIGINT NOT NULL, PRIMARY KEY (db, tbl, chunk, overlap))" > /dev/null
meta "DELETE FROM qservMeta.row_counters WHERE db='$DB';
	INSERT INTO qservMeta.row_counters SELECT DISTINCT db, 'Object', chunk, 0, 1, 1, 0 FROM qservMeta.chunks WHERE db='$DB';
	INSERT INTO qservMeta.row_counters VALUES ('$DB', 'Filter', 1234567890, 0, 99, 1, 0)" > "$T/ins.log"
got=$(mariadb --no-defaults -h "$QSERV_CZAR_HOST" -P "$QSERV_CZAR_PORT" -u "$QSERV_USER" -p"$QSERV_PASSWORD" -B \
	-e "SELECT COUNT(*) FROM $DB.Object; select count(*) AS n FROM $DB.Object LIMIT 1" 2>&1 | tr '\n' ' ')
tap_is "$got" "COUNT(*) $NCH n $NCH " "wrong counters (1 per chunk) are the answer: $NCH, not $NOBJ; named COUNT(*) or by the alias"
tap_is "$(sql "SELECT COUNT(*) FROM $DB.Filter")|$(sql "SELECT COUNT(*) FROM $DB.Object WHERE objectId > 0")" "99|$NOBJ" \
	"a regular table's one counter answers too; a WHERE scans"

one=$(meta "SELECT MIN(chunk) FROM qservMeta.chunks WHERE db='$DB'")
meta "UPDATE qservMeta.row_counters SET deployed = 0 WHERE db='$DB' AND tbl='Object' AND chunk=$one" > /dev/null
a=$(sql "SELECT COUNT(*) FROM $DB.Object")
meta "DELETE FROM qservMeta.row_counters WHERE db='$DB' AND tbl='Object' AND chunk=$one" > /dev/null
b=$(sql "SELECT COUNT(*) FROM $DB.Object")
meta "INSERT INTO qservMeta.row_counters VALUES ('$DB', 'Object', $one, 0, 1, 1, 0)" > /dev/null
c=$(sql "SELECT COUNT(*) FROM $DB.Object")
tap_is "$a|$b|$c" "$NOBJ|$NOBJ|$NCH" "a counter not deployed, or missing, on one chunk: a scan; all deployed again: the counters"

tid=$(meta "INSERT INTO qservMeta.trans (db, state, begin_time, end_time, context) VALUES ('$DB', 'STARTED', 0, 0, '{}'); SELECT LAST_INSERT_ID()")
a=$(sql "SELECT COUNT(*) FROM $DB.Object")
meta "UPDATE qservMeta.trans SET state = 'IS_FINISHING' WHERE id = $tid" > /dev/null
b=$(sql "SELECT COUNT(*) FROM $DB.Object")
meta "UPDATE qservMeta.trans SET state = 'ABORTED', end_time = 1 WHERE id = $tid" > /dev/null
c=$(sql "SELECT COUNT(*) FROM $DB.Object")
tap_is "$a|$b|$c" "$NOBJ|$NOBJ|$NCH" "a STARTED or IS_FINISHING transaction of the database: a scan; ABORTED: the counters"

a=$(sql "SET GLOBAL QSERV_ROW_COUNTER_OPTIMIZATION = 0; SELECT COUNT(*) FROM $DB.Object")
b=$(sql "SET GLOBAL QSERV_ROW_COUNTER_OPTIMIZATION = 1; SELECT COUNT(*) FROM $DB.Object")
tap_is "$a|$b" "$NOBJ|$NCH" "SET GLOBAL QSERV_ROW_COUNTER_OPTIMIZATION = 0 scans, = 1 uses the counters again"
got=$(sql "SET GLOBAL max_connections = 5")
case $got in *1235*"SET GLOBAL"*) tap_pass "any other SET GLOBAL is refused (1235)" ;;
*) tap_fail "any other SET GLOBAL is refused (1235)" "$got" ;; esac
meta "DELETE FROM qservMeta.row_counters WHERE db='$DB'; DELETE FROM qservMeta.trans WHERE id = $tid" > /dev/null

tap_is "$(stat -c %a "$SOCK" 2>&1)" 600 "the notice socket is mode 0600"
# the notice: one chunk's placement row removed, then the datagram
ch=$(meta "SELECT chunk FROM qservMeta.chunks WHERE db='$DB' ORDER BY chunk LIMIT 1")
w=$(meta "SELECT worker_id FROM qservMeta.chunks WHERE db='$DB' AND chunk=$ch")
inch=$(my "$QSERV_WORKER_1_SOCKET" -e "SELECT COUNT(*) FROM $DB.Source_$ch")
sql "SELECT COUNT(*) FROM $DB.Source" > /dev/null   # a fresh snapshot
meta "DELETE FROM qservMeta.chunks WHERE db='$DB' AND chunk=$ch" > /dev/null
notice
a=$(sql "SELECT COUNT(*) FROM $DB.Source")
meta "INSERT INTO qservMeta.chunks (db, chunk, worker_id) VALUES ('$DB', $ch, '$w')" > /dev/null
notice
b=$(sql "SELECT COUNT(*) FROM $DB.Source")
tap_is "$a|$b" "$((NSRC - inch))|$NSRC" \
	"after a 'reload' datagram the very next statement sees chunk $ch gone ($inch sources), then back"
# the director-index cache, forgotten on a notice
metric() { curl -s "$QSERV_CZAR_METRICS_URL" | awk -v k="$1" 'index($0, k) == 1 { print $2 }'; }
oid=$(my "$QSERV_WORKER_1_SOCKET" -e "SELECT MIN(objectId) FROM $DB.Object_$ch")
# (a quoted key: the director map, director_map.h, takes integer literals
# only, so these lookups go to the director index and its cache)
l1=$(sql "SELECT objectId, ra FROM $DB.Object WHERE objectId = '$oid'")
h1=$(metric 'qserv_czar_index_cache_total{result="hit"}')
l2=$(sql "SELECT objectId, ra FROM $DB.Object WHERE objectId = '$oid'")
h2=$(metric 'qserv_czar_index_cache_total{result="hit"}')
tap_is "$l2|$((h2 - h1))" "$l1|1" "a repeated point lookup ($oid) is a director-index cache hit, same row"
notice
m1=$(metric 'qserv_czar_index_cache_total{result="miss"}')
l3=$(sql "SELECT objectId, ra FROM $DB.Object WHERE objectId = '$oid'")
m2=$(metric 'qserv_czar_index_cache_total{result="miss"}')
n=$(metric 'qserv_czar_stage_seconds_count{stage="index"}')
tap_is "$l3|$((m2 - m1))|$([ "${n:-0}" -ge 3 ] && echo counted)" "$l1|1|counted" \
	"after a 'reload' datagram the cache is forgotten (a miss), same row; the stage histograms count lookups"
tap_ok "dev cluster down" "$DC" down --dir "$T/cluster"
tap_done
