#!/bin/sh
# match_stats.sh: ref-match tables, row counters and the czar's metadata
# notice on a dev cluster of 2 workers, level 1 (qserv/controller/capi.c
# add_table, cstats.c, cnotify.c; META.md).
#
# Checks: two directors and a match table registered (Qserv's
# director_table2, director_key2, flag, ang_sep; `<db>.<table>` of the same
# database accepted), listed back by GET /ingest/table/<db>, stored in
# qservMeta.tables; the wrong ones refused 400 with a clear error (an
# unknown or non-director director, a director of another database, keys
# not in the schema or not distinct, ang_sep 0 or above the overlap, a
# match field on a regular table); the worker has T_<chunk> and no
# FullOverlap table of the match table and refuses an overlap
# contribution to it; rows into both chunks of two directors and the
# match table, publish; POST /ingest/table-stats: 401 without the key, the
# counts equal SELECT COUNT(*) over the chunk tables on the workers
# (chunk and overlap), deployed; GET's Qserv shape; DELETE qserv_only
# undeploys, DELETE removes; publish's row_counters_deploy_at_qserv
# deploys every table; a transaction on the database sets deployed=0; a
# table drop deletes its rows; at level 2 the match table's chunks are
# copied (both workers hold Match_<chunk> and the dummy chunk's, no
# FullOverlap), have reference checksums and pass a verify; every
# committed change sends one datagram to --czar-notify's socket (a
# python3 receiver): `reload chunks` for row counters and copies, `reload`
# for an un-publish and a drop; and a
# controller with nobody bound keeps answering.
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
. "$REPO/tools/tap.sh"
. "$REPO/tools/dc-test.sh"
dc_init match_stats
command -v python3 > /dev/null || tap_skip_all "needs python3"
. "$REPO/qserv/controller/tests/qcurl.sh"

tap_plan 53

# the czar's side of the notice: counts the datagrams it gets
SOCK=$T/czar-notify.sock
cat > "$T/recv.py" <<'EOF'
import os, socket, sys
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o600)
s.settimeout(600)
while True:
    try:
        d = s.recv(64)
    except socket.timeout:
        break
    with open(out, "a") as f:
        f.write(d.decode("ascii", "replace") + "\n")
EOF
python3 "$T/recv.py" "$SOCK" "$T/notices" &
DC_PIDS="$DC_PIDS $!"
wait_until 10 test -S "$SOCK"
notices() { [ -f "$T/notices" ] && wc -l < "$T/notices" | tr -d ' ' || echo 0; }
# got_notice N: more than N datagrams within 5 s
got_notice() { wait_until 5 sh -c "[ \$( [ -f '$T/notices' ] && wc -l < '$T/notices' || echo 0) -gt $1 ]"; }

export QSERV_CONTROLLER_ARGS="--replication-level 1 --czar-notify $SOCK"
dc_up 2; tap_is "$?" 0 "dev cluster with 2 workers comes up (--czar-notify)"
K="Authorization: Bearer $QSERV_AUTH_KEY"
W1=https://127.0.0.1:$QSERV_WORKER_1_INGEST_PORT
w1() { my "$QSERV_WORKER_1_SOCKET" -e "$1"; }
w2() { my "$QSERV_WORKER_2_SOCKET" -e "$1"; }
err() { jq -r .error "$T/r"; }

DB=ms
dir_schema() {
	echo "[{\"name\":\"$1\",\"type\":\"BIGINT\"},{\"name\":\"ra\",\"type\":\"DOUBLE\"},{\"name\":\"decl\",\"type\":\"DOUBLE\"},{\"name\":\"chunkId\",\"type\":\"INT\"},{\"name\":\"subChunkId\",\"type\":\"INT\"}]"
}
MSCHEMA='[{"name":"objectId","type":"BIGINT"},{"name":"sourceId","type":"BIGINT"},{"name":"flags","type":"INT UNSIGNED"},{"name":"chunkId","type":"INT"},{"name":"subChunkId","type":"INT"}]'
mtable() {   # mtable NAME EXTRA-FIELDS: a match table body
	echo "{\"database\":\"$DB\",\"table\":\"$1\",\"is_partitioned\":1,\"director_table\":\"Object\",\"director_key\":\"objectId\",\"director_table2\":\"Source\",\"director_key2\":\"sourceId\",\"flag\":\"flags\",\"ang_sep\":0.01,\"schema\":$MSCHEMA${2:+,$2}}"
}
api POST /ingest/database "{\"database\":\"$DB\",\"num_stripes\":85,\"num_sub_stripes\":12,\"overlap\":0.01667}" -H "$K" > /dev/null
api POST /ingest/database '{"database":"other","num_stripes":85,"num_sub_stripes":12,"overlap":0.01667}' -H "$K" > /dev/null
for t in Object Source; do
	k=$([ $t = Object ] && echo objectId || echo sourceId)
	api POST /ingest/table "{\"database\":\"$DB\",\"table\":\"$t\",\"is_partitioned\":1,\"director_key\":\"$k\",\"latitude_key\":\"decl\",\"longitude_key\":\"ra\",\"schema\":$(dir_schema $k)}" -H "$K" > /dev/null
done
tap_is "$(meta "SELECT COUNT(*) FROM qservMeta.tables WHERE db='$DB' AND is_director=1")" 2 "two directors registered"

# 1. wrong registrations: 400 and a clear error
bad() {   # bad BODY PATTERN NAME
	c=$(api POST /ingest/table "$1" -H "$K")
	if [ "$c" = 400 ] && err | grep -q "$2"; then tap_pass "$3"; else tap_fail "$3" "$c $(err)"; fi
}
bad "$(mtable M1 | sed 's/"director_table2":"Source"/"director_table2":"Nope"/')" "director_table2: Nope is not a registered director table" \
	"an unknown second director refused"
bad "$(mtable M1 | sed 's/"director_table2":"Source"/"director_table2":"other.Source"/')" "names a table of database other" \
	"a director in another database refused, saying so"
bad "$(mtable M1 | sed 's/"director_key2":"sourceId"/"director_key2":"nope"/')" "director_key2: nope is not a column" \
	"director_key2 not in the schema refused"
bad "$(mtable M1 | sed 's/"flag":"flags"/"flag":"objectId"/')" "must be distinct" "flag equal to director_key refused"
bad "$(mtable M1 | sed 's/"ang_sep":0.01/"ang_sep":0/')" "ang_sep must be" "ang_sep 0 refused"
bad "$(mtable M1 | sed 's/"ang_sep":0.01/"ang_sep":0.5/')" "more than database $DB's overlap" "ang_sep above the overlap refused"
bad "$(mtable M1 | sed 's/"director_table":"Object"/"director_table":"M0"/')" "director_table: M0 is not a registered director" \
	"a first director that is not registered refused"
bad "{\"database\":\"$DB\",\"table\":\"R\",\"is_partitioned\":0,\"director_table2\":\"Source\",\"schema\":$MSCHEMA}" \
	"for partitioned ref-match tables only" "a match field on a regular table refused"
tap_is "$(meta "SELECT COUNT(*) FROM qservMeta.tables WHERE db='$DB' AND name='M1'")" 0 "nothing stored by the refusals"

# 2. the match table
c=$(api POST /ingest/table "$(mtable Match | sed "s/\"director_table2\":\"Source\"/\"director_table2\":\"$DB.Source\"/")" -H "$K")
tap_is "$c $(jq -r '.table | [.director_table2, .director_key2, .flag, .ang_sep] | join(" ")' "$T/r")" \
	"200 Source sourceId flags 0.01" "a match table registered (director_table2 as <db>.<table>)"
tap_is "$(meta "SELECT is_partitioned, is_director, is_match, director_table, director_key, director_table2, director_key2, flag_key, ang_sep FROM qservMeta.tables WHERE db='$DB' AND name='Match'" | tr '\t' ' ')" \
	"1 0 1 Object objectId Source sourceId flags 0.01" "qservMeta.tables holds it as the contract says"
api GET "/ingest/table/$DB" > /dev/null
tap_is "$(jq -r '.tables[] | select(.name=="Match") | [.is_ref_match, .director_table, .director_table2, .director_key2, .flag, .ang_sep] | join(" ")' "$T/r")" \
	"1 Object Source sourceId flags 0.01" "GET /ingest/table lists its match fields"

# 3. rows: chunks 6630 and 6631 of both directors and the match table
tid=$(api POST /ingest/trans "{\"database\":\"$DB\"}" -H "$K" > /dev/null; jq -r .transaction.id "$T/r")
n=0
for ch in 6630 6631; do
	api POST /ingest/chunk "{\"transaction_id\":$tid,\"chunk\":$ch}" -H "$K" > /dev/null
	eval "WURL_$ch=https://$(jq -r .location.http_host "$T/r"):$(jq -r .location.http_port "$T/r")"
	eval "WID_$ch=$(jq -r .location.worker "$T/r")"
	: > "$T/o$ch.tsv"; : > "$T/s$ch.tsv"; : > "$T/m$ch.tsv"; : > "$T/ov$ch.tsv"
	i=0
	while [ $i -lt $((ch - 6625)) ]; do
		n=$((n + 1)); i=$((i + 1))
		printf '%d\t1.0\t2.0\t%d\t%d\n' $n $ch $i >> "$T/o$ch.tsv"
		printf '%d\t1.0\t2.0\t%d\t%d\n' $((n + 1000)) $ch $i >> "$T/s$ch.tsv"
		printf '%d\t%d\t3\t%d\t%d\n' $n $((n + 1000)) $ch $i >> "$T/m$ch.tsv"
	done
	printf '%d\t1.0\t2.0\t%d\t1\n' $((n + 5000)) $ch >> "$T/ov$ch.tsv"
done
load() {   # load CHUNK TABLE FILE OVERLAP: the contribution's status
	eval "u=\$WURL_$1"
	qcurl -s -X POST "$u/ingest/file" -d "{\"transaction_id\":$tid,\"table\":\"$2\",\"chunk\":$1,\"overlap\":$4,\"url\":\"file://$3\"}" > "$T/c"
	jq -r '.contrib.status // .error' "$T/c"
}
ok=
for ch in 6630 6631; do
	for t in Object Source Match; do
		f=$T/$(echo $t | cut -c1 | tr OSM osm)$ch.tsv
		ok="$ok$(load $ch $t "$f" 0) "
	done
	ok="$ok$(load $ch Object "$T/ov$ch.tsv" 1) "
done
tap_is "$ok" "FINISHED FINISHED FINISHED FINISHED FINISHED FINISHED FINISHED FINISHED " \
	"chunk and overlap rows of the directors and the match table's rows loaded"
load 6630 Match "$T/m6630.tsv" 1 > /dev/null
tap_ok "an overlap contribution to the match table is refused" grep -q 'not a director table' "$T/c"
mt() { for x in "$QSERV_WORKER_1_SOCKET" "$QSERV_WORKER_2_SOCKET"; do
	my "$x" -e "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA='$DB' AND TABLE_NAME LIKE 'Match%'"; done |
	sort -u | tr '\n' ' '; }
tap_is "$(mt)" "Match Match_6630 Match_6631 " "the workers have Match_<chunk> and no MatchFullOverlap table"
api PUT "/ingest/trans/$tid?abort=0" '' -H "$K" > /dev/null
tap_is "$(jq -r .transaction.state "$T/r")" FINISHED "commit"

# 4. row counters before publish
n0=$(notices)
tap_is "$(api POST /ingest/table-stats "{\"database\":\"$DB\",\"table\":\"Object\"}")" 401 "POST /ingest/table-stats without the key: 401"
tap_is "$(api DELETE "/ingest/table-stats/$DB/Object" '{}')" 401 "DELETE /ingest/table-stats without the key: 401"
c=$(api POST /ingest/table-stats "{\"database\":\"$DB\",\"table\":\"Object\",\"overlap_selector\":\"CHUNK_AND_OVERLAP\",\"force_rescan\":1,\"row_counters_state_update_policy\":\"ENABLED\",\"row_counters_deploy_at_qserv\":1}" -H "$K")
tap_is "$c $(jq -r '[.scanned, .stored, .deployed] | join(" ")' "$T/r")" "200 true true true" "POST /ingest/table-stats: scanned, stored, deployed"
tap_ok "one notice for it" got_notice "$n0"
k_stats=$(sed -n "$((n0 + 1))p" "$T/notices")
truth() {   # truth TABLE SUFFIX: SELECT COUNT(*) of every chunk table on the workers
	s=0
	for ch in 6630 6631; do
		eval "x=\$QSERV_WORKER_$(eval echo "\$WID_$ch" | sed 's/worker-//')_SOCKET"
		s=$((s + $(my "$x" -e "SELECT COUNT(*) FROM $DB.\`$1$2_$ch\`")))
	done
	echo $s
}
tap_is "$(meta "SELECT SUM(num_rows) FROM qservMeta.row_counters WHERE db='$DB' AND tbl='Object' AND overlap=0")" "$(truth Object '')" \
	"chunk counters equal COUNT(*) over the chunk tables ($(truth Object '') rows)"
tap_is "$(meta "SELECT SUM(num_rows) FROM qservMeta.row_counters WHERE db='$DB' AND tbl='Object' AND overlap=1")" "$(truth Object FullOverlap)" \
	"overlap counters equal COUNT(*) over the FullOverlap tables"
tap_is "$(meta "SELECT COUNT(*), SUM(deployed) FROM qservMeta.row_counters WHERE db='$DB' AND tbl='Object'" | tr '\t' ' ')" "4 4" \
	"one row per chunk and overlap, all deployed"
api GET "/ingest/table-stats/$DB/Object" > /dev/null
tap_is "$(jq -c '[.database, .table, (.entries | length), (.entries[0] | keys)]' "$T/r")" \
	'["ms","Object",4,["chunk","deployed","is_overlap","num_rows","transaction_id","update_time"]]' "GET /ingest/table-stats: Qserv's shape"
api POST /ingest/table-stats "{\"database\":\"$DB\",\"table\":\"Match\",\"overlap_selector\":\"CHUNK\",\"row_counters_state_update_policy\":\"ENABLED\"}" -H "$K" > /dev/null
tap_is "$(meta "SELECT SUM(num_rows), SUM(deployed), MAX(overlap) FROM qservMeta.row_counters WHERE db='$DB' AND tbl='Match'" | tr '\t' ' ')" \
	"$(truth Match '') 0 0" "match table counted (ENABLED, not deployed), no overlap rows"
api POST /ingest/table-stats "{\"database\":\"$DB\",\"table\":\"Match\",\"row_counters_deploy_at_qserv\":1}" -H "$K" > /dev/null
tap_is "$(jq -r .scanned "$T/r") $(meta "SELECT SUM(deployed) FROM qservMeta.row_counters WHERE db='$DB' AND tbl='Match'")" "false 2" \
	"deploying recorded counters does not rescan"
n0=$(notices)
c=$(api DELETE "/ingest/table-stats/$DB/Object" '{"overlap_selector":"CHUNK_AND_OVERLAP","qserv_only":1}' -H "$K")
tap_is "$c $(meta "SELECT COUNT(*), SUM(deployed) FROM qservMeta.row_counters WHERE db='$DB' AND tbl='Object'" | tr '\t' ' ')" "200 4 0" \
	"DELETE qserv_only=1: undeployed, kept"
tap_ok "one notice for it" got_notice "$n0"
c=$(api DELETE "/ingest/table-stats/$DB/Object" '{"overlap_selector":"OVERLAP"}' -H "$K")
tap_is "$c $(meta "SELECT COUNT(*), MAX(overlap) FROM qservMeta.row_counters WHERE db='$DB' AND tbl='Object'" | tr '\t' ' ')" "200 2 0" \
	"DELETE overlap_selector=OVERLAP: only the overlap rows go"
c=$(api POST /ingest/table-stats "{\"database\":\"$DB\",\"table\":\"Object\",\"overlap_selector\":\"BOTH\"}" -H "$K")
tap_is "$c $(err)" "400 overlap_selector must be CHUNK, OVERLAP or CHUNK_AND_OVERLAP" "a bad overlap_selector refused 400"
tap_is "$(api GET "/ingest/table-stats/$DB/Nope")" 404 "GET of an unknown table: 404"

# 5. publish with row_counters_deploy_at_qserv
n0=$(notices)
c=$(api PUT "/ingest/database/$DB" '{"row_counters_deploy_at_qserv":1}' -H "$K")
tap_is "$c $(jq -r .database.is_published "$T/r")" "200 true" "publish with row_counters_deploy_at_qserv"
tap_ok "one notice for it" got_notice "$n0"
tap_is "$(meta "SELECT tbl, COUNT(*), SUM(deployed), SUM(num_rows) FROM qservMeta.row_counters WHERE db='$DB' GROUP BY tbl ORDER BY tbl" | tr '\t\n' ' ')" \
	"Match 2 2 $(truth Match '') Object 4 4 $(($(truth Object '') + $(truth Object FullOverlap))) Source 4 4 $(truth Source '') " \
	"every table's counters scanned and deployed (directors with overlap rows)"
tap_is "$(sql "SELECT COUNT(*) FROM $DB.Match")" "$(truth Match '')" "the czar counts the match table's rows alike"

# 5b. replicas of the match table: copies, checksums, verify, dummy chunk
wt() { my "$1" -e "SELECT GROUP_CONCAT(TABLE_NAME ORDER BY TABLE_NAME SEPARATOR ' ') FROM information_schema.TABLES WHERE TABLE_SCHEMA='$DB' AND TABLE_NAME LIKE 'Match%'"; }
n0=$(notices)
c=$(api PUT /replication/level "{\"level\":2,\"database\":\"$DB\"}" -H "$K")
tap_is "$c $(jq -r .replication.copies "$T/r")" "200 2" \
	"level 2: each chunk copied to the other worker"
tap_ok "copies registered: a notice" got_notice "$n0"
tap_is "$(wt "$QSERV_WORKER_1_SOCKET") | $(wt "$QSERV_WORKER_2_SOCKET")" \
	"Match Match_1234567890 Match_6630 Match_6631 | Match Match_1234567890 Match_6630 Match_6631" \
	"both workers hold Match_<chunk> of both chunks and the dummy chunk's, no FullOverlap"
wi() { my "$1" -e "SELECT GROUP_CONCAT(DISTINCT CONCAT(INDEX_NAME, ':', COLUMN_NAME) ORDER BY INDEX_NAME SEPARATOR ' '), COUNT(DISTINCT TABLE_NAME, INDEX_NAME) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA='$DB' AND TABLE_NAME LIKE 'Match%' AND INDEX_NAME LIKE 'qserv_director_key%'" | tr '\t' ' '; }
tap_is "$(wi "$QSERV_WORKER_1_SOCKET") | $(wi "$QSERV_WORKER_2_SOCKET")" \
	"qserv_director_key:objectId qserv_director_key2:sourceId 8 | qserv_director_key:objectId qserv_director_key2:sourceId 8" \
	"the default indexes on the match table's two director keys, on all its tables of both workers (copies too)"
tap_is "$(meta "SELECT GROUP_CONCAT(tbl ORDER BY tbl) FROM qservMeta.chunk_checksums WHERE db='$DB' AND tbl LIKE 'Match%'")" \
	"Match_6630,Match_6631" "the match table's chunk tables have reference checksums"
c=$(api POST /replication/verify '' -H "$K")
tap_is "$c $(jq -r '[.mismatches, .replicas] | join(" ")' "$T/r")" "200 0 4" "a verify pass: 4 replicas, 0 mismatches"
tap_is "$(sql "SELECT COUNT(*) FROM $DB.Match")" "$(truth Match '')" "the czar still counts the match table's rows once"

# 6. un-publish, a transaction makes them stale; drops delete them
n0=$(notices)
api PUT "/ingest/database/$DB" '{"publish":false}' -H "$K" > /dev/null
tap_ok "un-publish: one notice" got_notice "$n0"
k_unpub=$(sed -n "$((n0 + 1))p" "$T/notices")
api POST /ingest/trans "{\"database\":\"$DB\"}" -H "$K" > /dev/null
tid=$(jq -r .transaction.id "$T/r")
tap_is "$(meta "SELECT COUNT(*), SUM(deployed) FROM qservMeta.row_counters WHERE db='$DB'" | tr '\t' ' ')" "10 0" \
	"a transaction starting on the database: counters kept, deployed=0"
api PUT "/ingest/trans/$tid?abort=1" '' -H "$K" > /dev/null
n0=$(notices)
c=$(api DELETE "/ingest/table/$DB/Match" '' -H "$K")
tap_is "$c $(meta "SELECT COUNT(*) FROM qservMeta.row_counters WHERE db='$DB' AND tbl='Match'")" "200 0" "a table drop deletes its counters"
tap_ok "table drop: one notice" got_notice "$n0"
n0=$(notices)
c=$(api DELETE "/ingest/database/$DB" '' -H "$K")
tap_is "$c $(meta "SELECT COUNT(*) FROM qservMeta.row_counters WHERE db='$DB'")" "200 0" "a database drop deletes its counters"
tap_ok "database drop: one notice" got_notice "$n0"
k_drop=$(sed -n "$((n0 + 1))p" "$T/notices")
tap_is "$(sort -u "$T/notices" | paste -sd,)|$k_stats|$k_unpub|$k_drop" "reload,reload chunks|reload chunks|reload|reload" \
	"the datagrams: 'reload chunks' for row counters, 'reload' for an un-publish and a drop, nothing else"

# 7. nobody listening: the controller carries on
for p in $DC_PIDS; do kill "$p" 2> /dev/null; done
DC_PIDS=
sleep 0.5
rm -f "$SOCK"
c=$(api POST /ingest/database '{"database":"ms2","num_stripes":85,"num_sub_stripes":12,"overlap":0.01667}' -H "$K")
c2=$(api DELETE /ingest/database/ms2 '' -H "$K")
tap_is "$c $c2" "200 200" "with no czar bound to the socket, a drop still succeeds"
tap_ok "and the controller logs it at most at debug (no warning)" sh -c "! grep -i 'czar notice' '$T/cluster/czar/controller.log' 2>/dev/null | grep -qv debug"
tap_done
echo "$((TAP_N - TAP_FAILED)) passed, $TAP_FAILED failed"
