#!/bin/sh
# replication.sh: replica levels and copies at publish (qserv/controller/
# crepl.c, the workers' chunk copy) on a dev cluster of 2 workers.
#
# Checks: PUT /replication/level refuses no key (401), a level out of range
# (400), an unknown database (404), takes the cluster's level 2; a catalog
# ingested and published: every chunk listed on both workers in
# qservMeta.chunks, both MariaDBs holding every chunk table with all the
# rows; the czar's COUNT(*)s right; GET /replication/status says level 2,
# 0 under-replicated, both workers; a per-database level shows there;
# un-publish keeps one holder per chunk and publishing again copies the
# others back; a level raised on a published database copies at once;
# qservctl replicas [level N DB].  Then `kill worker-1` and the czar's COUNT(*) is only
# reported (its fail-over is another piece of issue 13), never asserted.
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
. "$REPO/tools/tap.sh"
. "$REPO/tools/dc-test.sh"
dc_init repl
tap_plan 16

DB=rpl
"$REPO/tools/sample-catalog.sh" "$T" $DB --objects 8000 --sources-per-object 2 --ra 0,40 --dec -20,20 \
	--stripes 12 --sub-stripes 4 || exit 1
if dc_up 2; then
	tap_pass "dev cluster with 2 workers up"
else
	tap_fail "dev cluster with 2 workers up" "$(tail -n 5 "$T/up.log")"
	exit 1
fi
C=$QSERV_INGEST_URL

got="$(api PUT /replication/level '{"level":2}') $(api PUT /replication/level '{"level":0}' -H "$(key)") $(api PUT /replication/level '{"level":2,"database":"nosuchdb"}' -H "$(key)") $(api PUT /replication/level '{"level":2,"database":"x;y"}' -H "$(key)")"
tap_is "$got" "401 400 404 400" "PUT /replication/level: no key 401, level 0 400, an unknown database 404, a bad name 400"
got=$(api PUT /replication/level '{"level":2}' -H "$(key)")
tap_is "$got $(jq -r .level "$T/r")" "200 2" "the admin key sets the cluster's level to 2"

if "$BIN/qservctl" ingest -q --no-publish "$T/ds" > "$T/ingest.log" 2>&1 &&
	[ "$(api PUT "/ingest/database/$DB" '' -H "$(key)")" = 200 ]; then
	tap_pass "catalog ingested and published"
else
	tap_fail "catalog ingested and published" "$(tail -n 5 "$T/ingest.log"; cat "$T/r")"
	exit 1
fi
cp "$T/r" "$T/publish.json"
tap_diag "publish replication: $(jq -c .replication "$T/publish.json")" \
	"$(jq -r '.replication | if .seconds > 0 then "\(.plain_bytes / .seconds / 1e6 * 10 | floor / 10) MB/s plain, \(.bytes / .seconds / 1e6 * 10 | floor / 10) MB/s compressed (4 copies at once)" else "" end' "$T/publish.json")"

NCH=$(meta "SELECT COUNT(DISTINCT chunk) FROM qservMeta.chunks WHERE db='$DB'")
bad=$(meta "SELECT COUNT(*) FROM (SELECT chunk, GROUP_CONCAT(worker_id ORDER BY worker_id) w FROM qservMeta.chunks WHERE db='$DB' GROUP BY chunk) x WHERE w <> 'worker-1,worker-2'")
tap_is "$bad" 0 "every one of the $NCH chunks is listed on worker-1 and worker-2 in qservMeta.chunks"

NOBJ=$(wc -l < "$T/gen/Object.tsv")
NSRC=$(wc -l < "$T/gen/Source.tsv")
rows_on() { # SOCKET TABLE: rows of its chunk tables (the dummy chunk is empty)
	my "$1" -e "SELECT SUM(TABLE_ROWS), COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='$DB' AND TABLE_NAME REGEXP '^$2_[0-9]+\$' AND TABLE_NAME <> '$2_1234567890'"
}
want=$(printf '%s\t%s' "$NOBJ" "$NCH")
a=$(rows_on "$QSERV_WORKER_1_SOCKET" Object) b=$(rows_on "$QSERV_WORKER_2_SOCKET" Object)
tap_is "$a|$b" "$want|$want" "both MariaDBs hold every Object chunk table with all $NOBJ rows"
want=$(printf '%s\t%s' "$NSRC" "$NCH")
a=$(rows_on "$QSERV_WORKER_1_SOCKET" Source) b=$(rows_on "$QSERV_WORKER_2_SOCKET" Source)
tap_is "$a|$b" "$want|$want" "both MariaDBs hold every Source chunk table with all $NSRC rows"

tap_is "$(czar_is "SELECT COUNT(*) FROM $DB.Object" "$NOBJ")" "$NOBJ" "the czar's COUNT(*) of Object is right"
tap_is "$(czar_is "SELECT COUNT(*) FROM $DB.Source" "$NSRC")" "$NSRC" "the czar's COUNT(*) of Source is right"

api GET /replication/status > /dev/null
got=$(jq -r --arg db $DB '"\(.level) " + (.databases[] | select(.database == $db) | "\(.level) \(.chunks) \(.under_replicated)") + " " + ([.workers[] | "\(.id):\(.state)"] | join(","))' "$T/r")
tap_is "$got" "2 2 $NCH 0 worker-1:up,worker-2:up" "GET /replication/status (no credential): level 2, $NCH chunks, 0 under-replicated, both workers"

api PUT /replication/level "{\"level\":1,\"database\":\"$DB\"}" -H "$(key)" > /dev/null
api GET /replication/status > /dev/null
got=$(jq -r --arg db $DB '"\(.level) " + (.databases[] | select(.database == $db) | "\(.level) \(.under_replicated)")' "$T/r")
api PUT /replication/level "{\"level\":2,\"database\":\"$DB\"}" -H "$(key)" > /dev/null
tap_is "$got" "2 1 0" "a level per database shows in the status (the cluster's stays 2)"

QSERV_AUTH_KEY= "$BIN/qservctl" replicas level 1 $DB > "$T/nokey.out" 2>&1
nokey=$?
"$BIN/qservctl" replicas level 1 $DB > "$T/lvl.out" 2>&1
"$BIN/qservctl" replicas > "$T/tbl.out" 2>&1
line=$(awk -v db=$DB '$1 == db { print $2, $3, $4 }' "$T/tbl.out")
wline=$(awk '$1 ~ /^worker-/ { printf "%s %s %s;", $1, $2, $3 }' "$T/tbl.out")
n1=$(meta "SELECT COUNT(*) FROM qservMeta.chunks WHERE db='$DB' AND worker_id='worker-1'")
n2=$(meta "SELECT COUNT(*) FROM qservMeta.chunks WHERE db='$DB' AND worker_id='worker-2'")
"$BIN/qservctl" replicas level 2 $DB > /dev/null 2>&1
tap_is "$nokey|$line|$wline|$((n1 + n2))" "1|1 $NCH 0|worker-1 up $n1;worker-2 up $n2;|$NCH" \
	"qservctl replicas level 1 DB (refused without the key) trims every chunk to one worker, then qservctl replicas prints it as a table"
ucode=$(api PUT "/ingest/database/$DB" '{"publish":false}' -H "$(key)")
one=$(meta "SELECT COUNT(*), COUNT(DISTINCT chunk) FROM qservMeta.chunks WHERE db='$DB'" | tr '\t' ' ')
code=$(api PUT "/ingest/database/$DB" '' -H "$(key)")
two=$(meta "SELECT COUNT(*) FROM qservMeta.chunks WHERE db='$DB'")
tap_is "$ucode $one|$code $(jq -r .replication.copies "$T/r")|$two" "200 $NCH $NCH|200 $NCH|$((2 * NCH))" \
	"un-publish keeps one holder per chunk; publishing again copies the $NCH others back"
# at level 1 a publish copies nothing; raising the level copies at once
api PUT "/ingest/database/$DB" '{"publish":false}' -H "$(key)" > /dev/null
api PUT /replication/level "{\"level\":1,\"database\":\"$DB\"}" -H "$(key)" > /dev/null
code=$(api PUT "/ingest/database/$DB" '' -H "$(key)")
one="$code $(jq -r .replication.copies "$T/r") $(meta "SELECT COUNT(*) FROM qservMeta.chunks WHERE db='$DB'")"
code=$(api PUT /replication/level "{\"level\":2,\"database\":\"$DB\"}" -H "$(key)")
two="$code $(jq -r .replication.copies "$T/r") $(meta "SELECT COUNT(*) FROM qservMeta.chunks WHERE db='$DB'")"
tap_is "$one|$two" "200 0 $NCH|200 $NCH $((2 * NCH))" \
	"published at level 1 (no copy), then PUT level 2 copies the $NCH chunks at once"
tap_is "$(czar_is "SELECT COUNT(*) FROM $DB.Object" "$NOBJ")" "$NOBJ" "the czar's COUNT(*) is right after publishing again"

"$DC" kill worker-1 --dir "$T/cluster" > "$T/kill.log" 2>&1
got=$(sql "SELECT COUNT(*) FROM $DB.Object")
tap_diag "after kill worker-1, the czar's COUNT(*) of Object (want $NOBJ): $got"
api GET /replication/status > /dev/null
tap_diag "status right after the kill (evicted only after --evict-after, heal.sh): $(jq -c .workers "$T/r")"
tap_ok "dev cluster down" "$DC" down --dir "$T/cluster"
tap_done
