#!/bin/sh
# sql_index.sh: the default index on the director keys and Qserv's
# /replication/sql/index (qserv/controller/csqlidx.c, qserv/worker/windex.c)
# on a dev cluster of 2 workers.
#
# Checks: a catalog (Object director, Source child) published at level 1:
# every chunk table of Object (FullOverlap and the dummy chunk too) and of
# Source on its worker has qserv_director_key on objectId, and every Object
# and ObjectFullOverlap table qserv_sub_chunk on subChunkId (a director's
# sub-chunk key; Source none), GET says COMPLETE for it; PUT level 2 copies
# every chunk to the other worker and the copies carry it (SHOW INDEX on
# each worker's MariaDB); a point lookup on a chunk table uses it (EXPLAIN);
# GET /replication/sql/index/<db>/<table>[?overlap=1] (open) says COMPLETE
# with the replica counts per worker; DELETE needs the key (401), then drops
# it (GET: gone, SHOW INDEX: none); POST (key) adds one back only where
# missing; un-publish + publish rebuilds the default where missing; a
# worker added later has it on its prototype and on the chunks the
# rebalancer moves to it; the czar's answers stay right.
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
. "$REPO/tools/tap.sh"
. "$REPO/tools/dc-test.sh"
dc_init sqlidx
tap_plan 14

DB=sqi
"$REPO/tools/sample-catalog.sh" "$T" $DB --objects 6000 --sources-per-object 2 --ra 0,40 --dec -20,20 \
	--stripes 12 --sub-stripes 4 || exit 1
if dc_up 2; then
	tap_pass "dev cluster with 2 workers up"
else
	tap_fail "dev cluster with 2 workers up" "$(tail -n 5 "$T/up.log")"
	exit 1
fi
"$BIN/qservctl" ingest -q --no-publish "$T/ds" > "$T/ingest.log" 2>&1 &&
	api PUT /replication/level "{\"level\":1,\"database\":\"$DB\"}" -H "$(key)" > /dev/null &&
	code=$(api PUT "/ingest/database/$DB" '' -H "$(key)")
tap_is "${code:-none} $(jq -r .replication.copies "$T/r")" "200 0" "catalog ingested and published at level 1 (no copy)"

# tables of $2 (a table name pattern) on worker socket $1 without index $3
# on column $4 (qserv_director_key, objectId), then how many there are:
# "missing/total"
lacking() {
	_tot=$(my "$1" -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='$DB' AND TABLE_NAME REGEXP '^$2\$'")
	_has=$(my "$1" -e "SELECT COUNT(DISTINCT TABLE_NAME) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA='$DB' AND TABLE_NAME REGEXP '^$2\$' AND INDEX_NAME='${3:-qserv_director_key}' AND COLUMN_NAME='${4:-objectId}'")
	echo "$((_tot - _has))/$_tot"
}
W1=$QSERV_WORKER_1_SOCKET W2=$QSERV_WORKER_2_SOCKET
NCH=$(meta "SELECT COUNT(DISTINCT chunk) FROM qservMeta.chunks WHERE db='$DB'")
n1=$(meta "SELECT COUNT(*) FROM qservMeta.chunks WHERE db='$DB' AND worker_id='worker-1'")
n2=$(meta "SELECT COUNT(*) FROM qservMeta.chunks WHERE db='$DB' AND worker_id='worker-2'")
# each worker: its chunks + the dummy chunk
got="$(lacking "$W1" 'Object_[0-9]+') $(lacking "$W1" 'ObjectFullOverlap_[0-9]+') $(lacking "$W1" 'Source_[0-9]+') $(lacking "$W2" 'Object_[0-9]+') $(lacking "$W2" 'ObjectFullOverlap_[0-9]+') $(lacking "$W2" 'Source_[0-9]+')"
want="0/$((n1 + 1)) 0/$((n1 + 1)) 0/$((n1 + 1)) 0/$((n2 + 1)) 0/$((n2 + 1)) 0/$((n2 + 1))"
tap_is "$got" "$want" "published: every Object, ObjectFullOverlap and Source chunk table (the dummy chunk too) has qserv_director_key on objectId, on both workers"
sub() { lacking "$1" "$2" qserv_sub_chunk subChunkId; }
nsrc=$(my "$W1" -e "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA='$DB' AND TABLE_NAME LIKE 'Source%' AND INDEX_NAME='qserv_sub_chunk'")
api GET "/replication/sql/index/$DB/Object?overlap=1" > /dev/null
got="$(sub "$W1" 'Object(_[0-9]+)?') $(sub "$W1" 'ObjectFullOverlap_[0-9]+') $(sub "$W2" 'Object(_[0-9]+)?') $(sub "$W2" 'ObjectFullOverlap_[0-9]+') $nsrc $(jq -r '.status.indexes[] | select(.name == "qserv_sub_chunk") | "\(.status) \(.columns[0].name)"' "$T/r")"
tap_is "$got" "0/$((n1 + 2)) 0/$((n1 + 1)) 0/$((n2 + 2)) 0/$((n2 + 1)) 0 COMPLETE subChunkId" \
	"published: the director's prototype, chunk and FullOverlap tables have qserv_sub_chunk on subChunkId (GET: COMPLETE), Source none"

code=$(api PUT /replication/level "{\"level\":2,\"database\":\"$DB\"}" -H "$(key)")
got="$code $(jq -r .replication.copies "$T/r") $(lacking "$W1" 'Object_[0-9]+') $(lacking "$W1" 'Source_[0-9]+') $(lacking "$W2" 'Object_[0-9]+') $(lacking "$W2" 'ObjectFullOverlap_[0-9]+') $(sub "$W1" 'Object_[0-9]+') $(sub "$W2" 'ObjectFullOverlap_[0-9]+')"
tap_is "$got" "200 $NCH 0/$((NCH + 1)) 0/$((NCH + 1)) 0/$((NCH + 1)) 0/$((NCH + 1)) 0/$((NCH + 1)) 0/$((NCH + 1))" \
	"PUT level 2 copies the $NCH chunks to the other worker and every copy carries the index"

CH=$(meta "SELECT MIN(chunk) FROM qservMeta.chunks WHERE db='$DB'")
OID=$(my "$W1" -e "SELECT objectId FROM $DB.Object_$CH LIMIT 1")
key_used=$(my "$W1" -e "EXPLAIN SELECT * FROM $DB.Object_$CH WHERE objectId=$OID" | cut -f6)
tap_is "$key_used" "qserv_director_key" "a point lookup on a chunk table uses the index (EXPLAIN)"

code=$(curl -s -o "$T/r" -w '%{http_code}' --cacert "$QSERV_CA_FILE" "$QSERV_INGEST_URL/replication/sql/index/$DB/Object")
got=$(jq -r '.status.indexes[] | select(.name == "qserv_director_key") | "\(.status) \(.num_replicas) \(.num_replicas_total) \(.type) \(.columns[0].name) " + ([.workers[] | "\(.worker):\(.status)"] | join(","))' "$T/r")
tap_is "$code $got" "200 COMPLETE $((2 * NCH + 2)) $((2 * NCH + 2)) BTREE objectId worker-1:COMPLETE,worker-2:COMPLETE" \
	"GET /replication/sql/index/$DB/Object (no credential): COMPLETE on every chunk table of both workers"
api GET "/replication/sql/index/$DB/Object?overlap=1" > /dev/null
got=$(jq -r '.status.overlap, (.status.indexes[] | select(.name == "qserv_director_key") | "\(.status) \(.num_replicas)")' "$T/r" | tr '\n' ' ')
tap_is "$got" "1 COMPLETE $((2 * NCH + 2)) " "GET ...?overlap=1: the FullOverlap tables, COMPLETE"

body="{\"database\":\"$DB\",\"table\":\"Source\",\"index\":\"qserv_director_key\"}"
c1=$(api DELETE /replication/sql/index "$body")
c2=$(api DELETE /replication/sql/index "{\"database\":\"$DB\",\"table\":\"Source\",\"index\":\"x;y\"}" -H "$(key)")
c3=$(api DELETE /replication/sql/index "$body" -H "$(key)")
api GET "/replication/sql/index/$DB/Source" > /dev/null
left=$(jq -r '[.status.indexes[] | select(.name == "qserv_director_key")] | length' "$T/r")
tap_is "$c1 $c2 $c3 $left $(lacking "$W1" 'Source_[0-9]+') $(lacking "$W2" 'Source(_[0-9]+)?')" \
	"401 400 200 0 $((NCH + 1))/$((NCH + 1)) $((NCH + 2))/$((NCH + 2))" \
	"DELETE /replication/sql/index: no key 401, a bad name 400, the key 200: gone from every Source table (the prototype too)"

pbody="{\"database\":\"$DB\",\"table\":\"Source\",\"index\":\"idx_src\",\"spec\":\"DEFAULT\",\"comment\":\"t\",\"columns\":[{\"column\":\"objectId\",\"length\":0,\"ascending\":1}]}"
c1=$(api POST /replication/sql/index "$pbody")
c2=$(api POST /replication/sql/index "$pbody" -H "$(key)")
api GET "/replication/sql/index/$DB/Source" > /dev/null
got=$(jq -r '.status.indexes[] | select(.name == "idx_src") | "\(.status) \(.num_replicas) \(.comment)"' "$T/r")
tap_is "$c1 $c2 $got $(lacking "$W2" 'Source_[0-9]+' idx_src)" "401 200 COMPLETE $((2 * NCH + 2)) t 0/$((NCH + 1))" \
	"POST /replication/sql/index needs the key, then every Source chunk table has it"

ucode=$(api PUT "/ingest/database/$DB" '{"publish":false}' -H "$(key)")
pcode=$(api PUT "/ingest/database/$DB" '' -H "$(key)")
api GET "/replication/sql/index/$DB/Source" > /dev/null
got=$(jq -r '.status.indexes[] | select(.name == "qserv_director_key") | "\(.status) \(.num_replicas)"' "$T/r")
tap_is "$ucode $pcode $got $(lacking "$W1" 'Object_[0-9]+')" "200 200 COMPLETE $((2 * NCH + 2)) 0/$((NCH + 1))" \
	"un-publish + publish: the default index built again where it was missing (Source), kept elsewhere"

# a worker joining: its prototypes get the default index (cjoin.c), so the
# chunks the rebalancer moves to it carry it
"$DC" add --dir "$T/cluster" > "$T/add.log" 2>&1 && set -a && . "$T/cluster/cluster.env" && set +a
W3=${QSERV_WORKER_3_SOCKET:-none}
has3() { [ "$(meta "SELECT COUNT(*) FROM qservMeta.chunks WHERE db='$DB' AND worker_id='worker-3'")" -gt 0 ]; }
wait_until 60 has3
n3=$(meta "SELECT COUNT(*) FROM qservMeta.chunks WHERE db='$DB' AND worker_id='worker-3'")
tap_is "$(lacking "$W3" 'Object') $(lacking "$W3" 'Object_[0-9]+') $(lacking "$W3" 'ObjectFullOverlap_[0-9]+') $(sub "$W3" 'Object(_[0-9]+)?')" \
	"0/1 0/$((n3 + 1)) 0/$((n3 + 1)) 0/$((n3 + 2))" \
	"a worker added later: its prototype has the index, and the $n3 chunks moved to it carry it"

NOBJ=$(wc -l < "$T/gen/Object.tsv")
i=0
while got=$(sql "SELECT COUNT(*) FROM $DB.Object") && [ "$got" != "$NOBJ" ] && [ $i -lt 20 ]; do
	i=$((i + 1)); sleep 0.5
done
one=$(sql "SELECT objectId FROM $DB.Object WHERE objectId=$OID")
tap_is "$got $one" "$NOBJ $OID" "the czar's COUNT(*) and a point lookup by objectId are right"
tap_ok "dev cluster down" "$DC" down --dir "$T/cluster"
tap_done
